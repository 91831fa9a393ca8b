// One attempt of a claimed task: runs its handler under the task's timeout and the worker's
// AbortSignal, then records how it ended (with its event, announced on pub/sub) and runs the
// after-finish step of a task that reached a terminal status.
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { noteTaskOutcome, taskAttemptSpan } from '../platform/tracing.js';
import type { AttemptOutcome, WorkerMetrics } from './metrics.js';
import { progressReporter } from './progress-reporter.js';
import type { TaskOutcomeOf } from '../queue/finish.js';
import { announceTaskEvent } from '../queue/signals.js';
import type { TaskRow } from '../queue/task-row.js';
import { endedAttempt, type AttemptEnd } from './attempt-end.js';
import type { RunningTask, RunningTasks } from './running-tasks.js';
import { parsePayload, type TaskRegistry } from './task-registry.js';

export interface AttemptRunnerOptions {
  workerId: string;
  pubsub: PubSub;
  registry: TaskRegistry;
  running: RunningTasks;
  backoff: { baseMs: number; maxMs: number };
  /** Records a terminal outcome (the claimer's batched finish-and-claim). */
  finish(outcome: TaskOutcomeOf): Promise<TaskRow | undefined>;
  /** Called with every task that reached a terminal status. */
  onFinished?(task: TaskRow): Promise<void>;
  /** A slot is free again. */
  slotFreed(): void;
  metrics?: WorkerMetrics;
  log: Logger;
}

export class AttemptRunner {
  constructor(private readonly options: AttemptRunnerOptions) {}

  start(task: TaskRow): void {
    const { running, log } = this.options;
    const entry = running.add(task);
    void announceTaskEvent(this.options.pubsub, task);
    if (task.queueWaitSeconds != null)
      this.options.metrics?.attemptStarted(task.type, task.priority, task.queueWaitSeconds);
    // The attempt's span (a child of the request that enqueued it; a no-op without tracing).
    entry.done = taskAttemptSpan(task, () => this.execute(entry))
      .catch((err) =>
        log.error(
          { err, taskId: task.id },
          'task bookkeeping failed; the lease will expire and the task be retried',
        ),
      )
      .finally(() => {
        running.delete(task.id);
        this.options.slotFreed();
      });
  }

  private async execute(entry: RunningTask): Promise<void> {
    const { task } = entry;
    const { pubsub, metrics } = this.options;
    const taskLog = this.options.log.child({
      taskId: task.id,
      type: task.type,
      attempt: task.attempts,
    });
    const timeout = setTimeout(
      () => this.options.running.stop(task.id, 'timeout'),
      task.timeoutSeconds * 1000,
    );
    const startedAt = performance.now();
    let end: AttemptEnd;
    try {
      end = await this.runHandler(entry, taskLog);
    } finally {
      clearTimeout(timeout);
    }
    const { finished } = end;
    // An attempt that is neither finished nor otherwise accounted for is no longer this worker's.
    const outcome: AttemptOutcome = finished
      ? (finished.status.toLowerCase() as AttemptOutcome)
      : (end.outcome ?? 'lease_lost');
    metrics?.attemptEnded(task.type, outcome, (performance.now() - startedAt) / 1000);
    noteTaskOutcome(outcome);
    if (!finished) return;
    await announceTaskEvent(pubsub, finished);
    taskLog.info({ status: finished.status }, 'task finished');
    await this.options
      .onFinished?.(finished)
      .catch((err) => taskLog.error({ err }, 'after-finish hook failed'));
  }

  /** Runs the handler and records the attempt's end. */
  private async runHandler(entry: RunningTask, taskLog: Logger): Promise<AttemptEnd> {
    const { task, controller } = entry;
    const { signal } = controller;
    const progress = progressReporter(
      task.id,
      this.options.workerId,
      signal,
      this.options.pubsub,
      taskLog,
    );
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
    aborted.catch(() => {});
    try {
      const definition = this.options.registry.get(task.type)!;
      const payload = parsePayload(definition, task.payload);
      const helpers = {
        task,
        logger: taskLog,
        signal,
        reportProgress: progress.report,
        pubsub: this.options.pubsub,
      };
      const result = await Promise.race([definition.run(payload, helpers), aborted]);
      await progress.settle();
      if (signal.aborted) throw signal.reason;
      return {
        finished: await this.options.finish({
          taskId: task.id,
          attempt: task.attempts,
          status: 'COMPLETED',
          result: result ?? null,
          message: 'completed',
        }),
      };
    } catch (error) {
      await progress.settle();
      return endedAttempt(entry, error, { ...this.options, log: taskLog });
    }
  }
}
