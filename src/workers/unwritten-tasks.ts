// Claimed tasks whose rows are not written yet (task-row.ts, `unwritten`: a workflow step
// commit's continuations), by id. A turn writes a row before the first change of its attempt
// (turn-statements.ts), or the type's commit records the attempt's end on its own rows and
// none is ever written; a hand-back writes it first. The heartbeat leaves them out: there is
// no lease of theirs to renew.
import { poolQueryable } from '../platform/db.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import type { FinishHook } from './finish-hook.js';

export class UnwrittenTasks {
  private readonly rows = new Map<string, ClaimedTaskRow>();

  get size(): number {
    return this.rows.size;
  }

  get(taskId: string): ClaimedTaskRow | undefined {
    return this.rows.get(taskId);
  }

  has(taskId: string): boolean {
    return this.rows.has(taskId);
  }

  /** Of a claim's rows, those not written. */
  claimed(tasks: readonly ClaimedTaskRow[]): void {
    for (const task of tasks) if (task.unwritten) this.rows.set(task.id, task);
  }

  /** The task's row is written (or its attempt is no longer the worker's, or it ended). */
  written(taskId: string): void {
    const task = this.rows.get(taskId);
    if (!task) return;
    task.unwritten = false;
    this.rows.delete(taskId);
  }

  /** The attempt is no longer the worker's: nothing of it to write. */
  forget(taskId: string, attempt: number): void {
    if (this.rows.get(taskId)?.attempts === attempt) this.written(taskId);
  }

  /** Writes the rows of those of `tasks` not written yet (before a hand-back). */
  async write(
    tasks: readonly ClaimedTaskRow[],
    hook: FinishHook | undefined,
    claim: { workerId: string; leaseMs: number },
  ): Promise<void> {
    const rows = tasks.filter((task) => this.rows.get(task.id) === task);
    if (rows.length === 0 || !hook?.writeUnwritten) return;
    await hook.writeUnwritten(poolQueryable(), rows, claim);
    for (const task of rows) this.written(task.id);
  }
}
