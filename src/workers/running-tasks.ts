// The attempts a worker's handlers run now, by task id, and how each is asked to stop.
import type { ClaimedTaskRow } from '../queue/task-row.js';

/** Why an attempt was aborted; none: it ended by itself (completed or threw). */
export type StopReason = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

/**
 * A running attempt. Its AbortSignal is made when its handler first reads it (most never do:
 * making an AbortController per task was about 4 % of a busy worker's CPU); a stop before
 * that makes it already aborted, and ends `race` either way. One object per attempt, its
 * methods on the prototype: a busy worker's garbage was mostly per-attempt promises and closures.
 */
export class RunningTask {
  reason?: StopReason;
  /**
   * A claim brought its task again (its lease was lost and the task reclaimed while this
   * worker lived): the attempt is stopped and no longer held; nothing more of it is written.
   */
  superseded = false;
  /** What the handler returned. */
  result?: unknown;
  private controller: AbortController | undefined;
  private onStop: ((reason: Error) => void) | undefined;

  constructor(readonly task: ClaimedTaskRow) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason && !this.controller.signal.aborted)
      this.controller.abort(new Error(this.reason));
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.reason !== undefined;
  }

  /** Settles as `handler` does, or rejects with the stop's reason once the attempt is stopped. */
  race<T>(handler: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.reason) return reject(new Error(this.reason));
      this.onStop = reject;
      handler.then(resolve, reject);
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
  /** Waiting for no attempt to run (allDone). */
  private idle: Array<() => void> = [];

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

  /** The attempt running; undefined: none of this task. */
  get(taskId: string): RunningTask | undefined {
    return this.byId.get(taskId);
  }

  add(task: ClaimedTaskRow): RunningTask {
    const entry = new RunningTask(task);
    this.byId.set(task.id, entry);
    return entry;
  }

  /** Drops the attempt, if it is still the one held for its task (a later claim replaces it). */
  delete(entry: RunningTask): void {
    if (this.byId.get(entry.task.id) !== entry) return;
    this.byId.delete(entry.task.id);
    if (this.byId.size === 0 && this.idle.length) for (const done of this.idle.splice(0)) done();
  }

  /** Aborts the attempt with a reason, once. */
  stop(taskId: string, reason: StopReason): void {
    this.byId.get(taskId)?.stop(reason);
  }

  /**
   * The task was claimed again: its running attempt stops as lease-lost and is let go at once
   * (its end is not written; it winds down outside the slots); the attempt, if there was one.
   */
  supersede(taskId: string): RunningTask | undefined {
    const entry = this.byId.get(taskId);
    if (!entry) return undefined;
    entry.superseded = true;
    entry.stop('lease-lost');
    this.delete(entry);
    return entry;
  }

  stopAll(reason: StopReason): void {
    for (const taskId of this.byId.keys()) this.stop(taskId, reason);
  }

  /** Settles when no handler runs (a stopping worker starts none). */
  allDone(): Promise<void> {
    if (this.byId.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
