// The operator's view of the executors: every worker process the clean-up still keeps, alive
// or stopped, with its slots and the tasks it runs (docs/operations.md#workers).
import { db } from '../../platform/db.js';
import { forbidden } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { WORKER_ALIVE_WITHIN_MS } from '../tasks/queue-info.js';
import { selectRunningTasks, type RunningTaskRow } from './sql/select-running-tasks.js';
import { selectWorkers, type WorkerRow } from './sql/select-workers.js';

export type WorkerView = WorkerRow & { runningTasks: RunningTaskRow[] };

/** Only the operator (ADMIN_API_KEY): the workers are the deployment's, not a team's. */
export function requireOperator(caller: Pick<Caller, 'isOperator'>, what: string): void {
  if (!caller.isOperator) throw forbidden(`Only the operator (ADMIN_API_KEY) reads ${what}`);
}

/** Two statements whatever the count: the workers, then all their running tasks at once. */
export async function listWorkers(caller: Pick<Caller, 'isOperator'>): Promise<WorkerView[]> {
  requireOperator(caller, 'the workers');
  const workers = await selectWorkers(db(), WORKER_ALIVE_WITHIN_MS);
  const running =
    workers.length === 0
      ? []
      : await selectRunningTasks(
          db(),
          workers.map((worker) => worker.id),
        );
  const byWorker = new Map<string, RunningTaskRow[]>();
  for (const task of running) {
    const list = byWorker.get(task.workerId) ?? [];
    list.push(task);
    byWorker.set(task.workerId, list);
  }
  return workers.map((worker) => ({ ...worker, runningTasks: byWorker.get(worker.id) ?? [] }));
}
