// The attempts a worker's handlers run now, by task id, and how each is asked to stop.
import type { TaskRow } from '../queue/task-row.js';

/** Why an attempt was aborted; none: it ended by itself (completed or threw). */
export type StopReason = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

/**
 * A running attempt. Its AbortSignal is made when its handler first reads it (most never do:
 * making an AbortController per task was about 4 % of a busy worker's CPU); a stop before
 * that makes it already aborted, and settles `stopped` either way.
 */
export class RunningTask {
  reason?: StopReason;
  /** What the handler returned. */
  result?: unknown;
  /** Settles when its handler is done. */
  readonly ended: Promise<void>;
  readonly end: () => void;
  private controller: AbortController | undefined;
  private onStop: ((reason: Error) => void) | undefined;

  constructor(readonly task: TaskRow) {
    let end!: () => void;
    this.ended = new Promise<void>((resolve) => (end = resolve));
    this.end = end;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason && !this.controller.signal.aborted)
      this.controller.abort(new Error(this.reason));
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.reason !== undefined;
  }

  /** Rejects with the stop's reason once the attempt is stopped (for racing its handler). */
  stopped(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.reason) reject(new Error(this.reason));
      else this.onStop = reject;
    });
  }

  /** Aborts the attempt with a reason, once. */
  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    const error = new Error(reason);
    this.controller?.abort(error);
    this.onStop?.(error);
  }
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
    const entry = new RunningTask(task);
    this.byId.set(task.id, entry);
    return entry;
  }

  delete(taskId: string): void {
    this.byId.get(taskId)?.end();
    this.byId.delete(taskId);
  }

  /** Aborts the attempt with a reason, once. */
  stop(taskId: string, reason: StopReason): void {
    this.byId.get(taskId)?.stop(reason);
  }

  stopAll(reason: StopReason): void {
    for (const taskId of this.byId.keys()) this.stop(taskId, reason);
  }

  /** Settles when every handler running now is done. */
  allDone(): Promise<unknown> {
    return Promise.all([...this.byId.values()].map((entry) => entry.ended));
  }
}
