// Changes PostgreSQL refused for their data. A turn writes many tasks' changes in one statement
// and a failed turn is tried again whole, so one change PostgreSQL refuses (a value past one of
// its limits, a constraint's check, anything src/platform/storable.ts did not foresee) failed
// every later turn of the worker: none of its ends was recorded again. Outputs known to be
// refused are made storable before they join a turn; this is the net beneath that. The tasks of
// a refused turn are written in turns of their own, half as many at a time at each refusal (a
// bisection: the change at fault is found in a few turns, every other one recorded on the way),
// and a change refused alone is written plainly instead (an end without its result or text), or
// dropped (a progress report, a start), or given up (refused again: the lease then expires and
// the task is reclaimed, within its lease-loss budget).
import type { Logger } from '../platform/logger.js';
import { writableText } from '../platform/storable.js';
import type { TaskChange } from '../queue/write-changes.js';

/** An end waiting to be written, as turns.ts keeps it. */
interface WaitingEnd {
  change: TaskChange;
  resolve(row: undefined): void;
}

/** What a worker's turns hold back, by task: ends, progress reports, starts not recorded. */
interface Waiting<End extends WaitingEnd> {
  ends: Map<string, End>;
  progress: Map<string, unknown>;
  unrecorded: { delete(taskId: string, attempt: number): void };
}

/** A turn PostgreSQL refused: its changes, its ends and progress reports by task. */
interface RefusedTurn<End extends WaitingEnd> {
  changes: readonly TaskChange[];
  ends: ReadonlyMap<string, End>;
  progress: ReadonlyMap<string, unknown>;
}

/**
 * Whether a turn failed on its data rather than on the database: PostgreSQL's data exceptions
 * (SQLSTATE class 22) and program limits (54: a value too large, too deeply nested), and a
 * statement Node could not build (RangeError: a string past V8's length).
 */
export function refusedForData(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

/** What the refusal said, short and storable (the refused value may be quoted in it). */
function refusal(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const said = writableText(message.length > 200 ? `${message.slice(0, 200)}…` : message);
  return typeof code === 'string' ? `${code}: ${said}` : said;
}

/** An end PostgreSQL refused, written plainly: no result, and a note of its own for text. */
export function plainEnd(change: TaskChange, error: unknown): TaskChange {
  const note = `its end could not be recorded (${refusal(error)})`;
  const { taskId, attempt } = change;
  switch (change.kind) {
    case 'COMPLETED':
      // The result was the only value it carried: the attempt fails, as an unstorable result does.
      return { taskId, attempt, kind: 'FAILED', error: note, message: `failed: ${note}` };
    case 'RETRY':
      // Still an interrupted or postponed run (their budgets, not the attempts, pay for it).
      return {
        taskId,
        attempt,
        kind: 'RETRY',
        error: note,
        delayMs: change.delayMs,
        interrupted: change.interrupted,
        postponed: change.postponed,
      };
    case 'FAILED':
    case 'CANCELLED':
    case 'TIMEOUT':
      return { taskId, attempt, kind: change.kind, error: note, message: note };
    default:
      return change;
  }
}

export class RefusedChanges {
  /** Tasks written in turns of their own, with how many such tasks a turn may hold. */
  private readonly limits = new Map<string, number>();
  /** Ends refused alone and written plainly since: refused again, they are given up. */
  private readonly rewritten = new Set<string>();

  get size(): number {
    return this.limits.size;
  }

  has(taskId: string): boolean {
    return this.limits.has(taskId);
  }

  /**
   * A refused turn's tasks (more than one): each later written among at most half as many.
   * Those of an earlier refusal keep the smaller limit they may have.
   */
  private split(taskIds: readonly string[]): void {
    const limit = Math.ceil(taskIds.length / 2);
    for (const taskId of taskIds)
      this.limits.set(taskId, Math.min(limit, this.limits.get(taskId) ?? limit));
  }

  /**
   * A task's change was refused alone: 'rewrite' it plainly (written alone again), or 'give up'
   * when its plain end was refused too.
   */
  private refusedAlone(taskId: string): 'rewrite' | 'give up' {
    if (this.rewritten.has(taskId)) {
      this.forget(taskId);
      return 'give up';
    }
    this.rewritten.add(taskId);
    this.limits.set(taskId, 1);
    return 'rewrite';
  }

  /**
   * A turn refused for its data, its changes back in `waiting`: its tasks written apart in
   * smaller turns; its one change, when it had one, rewritten plainly, dropped or given up.
   */
  setApart<End extends WaitingEnd>(
    turn: RefusedTurn<End>,
    waiting: Waiting<End>,
    error: unknown,
    logger: Logger,
  ): void {
    if (turn.changes.length > 1) return this.split(turn.changes.map((change) => change.taskId));
    const { taskId, kind, attempt } = turn.changes[0]!;
    const log = logger.child({ taskId, kind, err: (error as Error).message });
    const end = turn.ends.get(taskId);
    if (end && waiting.ends.get(taskId) === end) {
      if (this.refusedAlone(taskId) === 'rewrite') {
        end.change = plainEnd(end.change, error) as End['change'];
        return log.warn('an end was refused for its data; writing it without its result or text');
      }
      waiting.ends.delete(taskId);
      end.resolve(undefined);
      return log.error('an end was refused even written plainly; given up (its lease will expire)');
    }
    this.forget(taskId);
    if (waiting.progress.get(taskId) === turn.progress.get(taskId)) waiting.progress.delete(taskId);
    // A start carries nothing a handler made: dropped, its attempt's startedAt as its claim left it.
    if (kind === 'START') waiting.unrecorded.delete(taskId, attempt);
    log.warn('a progress report or start was refused for its data; dropped');
  }

  /** The task's changes were written (or dropped): no longer set apart. */
  forget(taskId: string): void {
    this.limits.delete(taskId);
    this.rewritten.delete(taskId);
  }

  /**
   * The tasks of the next turn of their own: of the smallest limit (the half that holds the
   * change at fault, when it is among them), as many as it allows, none with a change in flight.
   */
  nextGroup(inFlight: ReadonlySet<string>): Set<string> | undefined {
    let size = Infinity;
    for (const [taskId, limit] of this.limits)
      if (!inFlight.has(taskId)) size = Math.min(size, limit);
    if (size === Infinity) return undefined;
    const group = new Set<string>();
    for (const [taskId, limit] of this.limits) {
      if (group.size >= size) break;
      if (limit === size && !inFlight.has(taskId)) group.add(taskId);
    }
    return group;
  }
}
