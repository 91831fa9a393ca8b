// The attempts a worker's handlers run now, by task id, and how each is asked to stop.
import type { TaskRow } from '../queue/task-row.js';

/** Why an attempt was aborted; none: it ended by itself (completed or threw). */
export type StopReason = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

export interface RunningTask {
  task: TaskRow;
  controller: AbortController;
  reason?: StopReason;
  /** What the handler returned. */
  result?: unknown;
  /** Settles when its handler is done. */
  ended: Promise<void>;
  end(): void;
}

export class RunningTasks {
  private readonly byId = new Map<string, RunningTask>();

  get size(): number {
    return this.byId.size;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  has(taskId: string): boolean {
    return this.byId.has(taskId);
  }

  typeOf(taskId: string): string | undefined {
    return this.byId.get(taskId)?.task.type;
  }

  add(task: TaskRow): RunningTask {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const entry: RunningTask = { task, controller: new AbortController(), ended, end };
    this.byId.set(task.id, entry);
    return entry;
  }

  delete(taskId: string): void {
    this.byId.get(taskId)?.end();
    this.byId.delete(taskId);
  }

  /** Aborts the attempt with a reason, once. */
  stop(taskId: string, reason: StopReason): void {
    const entry = this.byId.get(taskId);
    if (!entry || entry.controller.signal.aborted) return;
    entry.reason = reason;
    entry.controller.abort(new Error(reason));
  }

  stopAll(reason: StopReason): void {
    for (const taskId of this.byId.keys()) this.stop(taskId, reason);
  }

  /** Settles when every handler running now is done. */
  allDone(): Promise<unknown> {
    return Promise.all([...this.byId.values()].map((entry) => entry.ended));
  }
}
