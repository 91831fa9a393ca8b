// The starts a worker has not recorded yet. A start is recorded a moment late
// (START_RECORD_DELAY_MS), so that a task that ends within it writes one event, its end; a
// change written for the attempt before then (an end, a progress report) carries the start with
// it: how long ago it began, when its claim did not set its startedAt (turns.ts).
import type { TaskChange } from '../queue/write-changes.js';

/** How long a start waits to be recorded: a task that ends by then records only its end. */
export const START_RECORD_DELAY_MS = 10;

interface Unrecorded {
  attempt: number;
  /** Date.now() at its start. */
  startedAt: number;
  /** Its startedAt is not in PostgreSQL yet (it waited in the local queue). */
  needsStartedAt: boolean;
}

export class UnrecordedStarts {
  private readonly starts = new Map<string, Unrecorded>();

  /** An attempt started; `recorded`: its claim set its startedAt (claimed for a free slot). */
  add(taskId: string, attempt: number, recorded: boolean): void {
    this.starts.set(taskId, { attempt, startedAt: Date.now(), needsStartedAt: !recorded });
  }

  /** Whether a start of the task (of `attempt`, when given) waits to be recorded. */
  has(taskId: string, attempt?: number): boolean {
    const start = this.starts.get(taskId);
    return start !== undefined && (attempt === undefined || start.attempt === attempt);
  }

  /** Drops the attempt's start (not a later attempt's of the same task). */
  delete(taskId: string, attempt: number): void {
    if (this.starts.get(taskId)?.attempt === attempt) this.starts.delete(taskId);
  }

  /**
   * The starts that changes about to be written carry (their attempt's, now). Held as objects:
   * a task reclaimed before its start was written and claimed again here gets the same attempt
   * number, and the earlier attempt's write must not record the later one's start.
   */
  carriedBy(changes: readonly TaskChange[]): Map<string, object> {
    const carried = new Map<string, object>();
    for (const { taskId, attempt } of changes) {
      const start = this.starts.get(taskId);
      if (start?.attempt === attempt) carried.set(taskId, start);
    }
    return carried;
  }

  /** A change that carried `start` (carriedBy) was written: that start with it. */
  recorded(taskId: string, start: object | undefined): void {
    if (start !== undefined && this.starts.get(taskId) === start) this.starts.delete(taskId);
  }

  /** For a change of the attempt written now: milliseconds since it started, when its startedAt is not written yet. */
  startedMsAgo(taskId: string, attempt: number, now: number): number | null {
    const start = this.starts.get(taskId);
    return start?.attempt === attempt && start.needsStartedAt ? now - start.startedAt : null;
  }

  /** The starts due by `now` whose tasks `skip` does not pass over. */
  due(now: number, skip: (taskId: string) => boolean): TaskChange[] {
    const changes: TaskChange[] = [];
    for (const [taskId, start] of this.starts) {
      if (now - start.startedAt < START_RECORD_DELAY_MS || skip(taskId)) continue;
      const startedMsAgo = this.startedMsAgo(taskId, start.attempt, now);
      changes.push({ kind: 'START', taskId, attempt: start.attempt, startedMsAgo });
    }
    return changes;
  }

  /** Milliseconds until the oldest start not in `busy` is due; undefined: none waits. */
  nextDue(busy: ReadonlySet<string>): number | undefined {
    let oldest: number | undefined;
    for (const [taskId, { startedAt }] of this.starts)
      if (!busy.has(taskId))
        oldest = oldest === undefined ? startedAt : Math.min(oldest, startedAt);
    return oldest === undefined
      ? undefined
      : Math.max(0, oldest + START_RECORD_DELAY_MS - Date.now());
  }
}
