// A task type as a worker runs it: its spec (name, payload schema, limits: task-spec.ts) and
// a handler `(payload, helpers)` as in graphile-worker, whose helpers carry a task-scoped
// logger, an AbortSignal and reportProgress. An optional onFinished step runs once a task of
// the type has ended. Each domain defines its task types beside its services; the engine
// (src/workers) runs the list it is given.
import type { PoolTransaction, Queryable, Transaction } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import type { ClaimedTaskRow } from './task-row.js';
import type { TaskSpec } from './task-spec.js';

export interface TaskHelpers {
  task: ClaimedTaskRow;
  /** The worker running the attempt: its lease's holder (the row's lockedBy) while it runs. */
  workerId: string;
  logger: Logger;
  /** Aborted on cancellation, timeout, lost lease or shutdown: stop promptly. */
  signal: AbortSignal;
  /** Coalesced: at most a few writes per second reach the database and subscribers. */
  reportProgress(percent: number, step: string): void;
  pubsub: PubSub;
}

export interface TaskHandler<Payload> {
  run(payload: Payload, helpers: TaskHelpers): Promise<unknown>;
  /** After a task of this type ended (any terminal status, also when cancelled before it ran). */
  onFinished?(task: ClaimedTaskRow, pubsub: PubSub): Promise<void>;
  /**
   * Inside the transaction that records attempts of this type ending (completed, failed,
   * cancelled, timed out), with the rows it ended: only tasks this worker still held at this
   * attempt, so the type's own rows commit with the task's end or not at all (a stale
   * worker's end is refused by the fence and never reaches this).
   */
  finishInTransaction?(
    finished: readonly ClaimedTaskRow[],
    tx: Transaction,
    pubsub: PubSub,
  ): Promise<void>;
  /**
   * For attempts that COMPLETED, in place of finishInTransaction: the type's rows and the
   * worker's claim in the transaction that records the ends, on a pooled connection. The type
   * claims for the worker, so that the tasks its rows made runnable go to the worker first.
   * Without it (or with other ends in the batch), finishInTransaction and the engine's claim.
   */
  completeAndClaim?(
    completed: readonly ClaimedTaskRow[],
    tx: PoolTransaction,
    claim: WorkerClaim,
    pubsub: PubSub,
  ): Promise<WorkerClaimed>;
  /**
   * Before completeAndClaim, first in its transaction: takes the locks that commit needs for
   * these completed attempts (as claimed) where no other transaction holds them, without
   * waiting. Answers the ids of the tasks whose locks another holds: their ends are put off to
   * a later turn of the worker rather than wait behind another worker's commit. `wait` (ends
   * put off several times already): it waits for every lock and puts off none.
   */
  lockForCompletion?(
    completed: readonly ClaimedTaskRow[],
    client: Queryable,
    wait: boolean,
  ): Promise<Set<string>>;
  /**
   * With completeAndClaim, when its claims may be `unwritten` (task-row.ts): writes those rows
   * as claimed (RUNNING under the worker's lease, not yet started unless `startedAt`), where
   * the type's own rows still expect them; a row written already is left as it is. Before
   * any other change of their attempts is written (the engine's turns, a hand-back).
   */
  writeUnwritten?(
    client: Queryable,
    tasks: readonly ClaimedTaskRow[],
    claim: { workerId: string; leaseMs: number },
  ): Promise<void>;
  /**
   * The rows an end of this type commits with, as a key: a worker writes the ends of one key
   * in one turn at a time, and turns of different keys side by side (a workflow step's: its
   * workflow). Unset: the type's name (its ends one turn at a time).
   */
  commitKey?(task: ClaimedTaskRow): string;
}

/** A type's commit's claim: the rows (as the worker starts them), of which it made `continued`. */
export interface WorkerClaimed {
  claimed: ClaimedTaskRow[];
  /** Tasks the commit itself made runnable, beside the claim's limit. */
  continued: number;
  /** The completed attempts never written that the commit recorded on its own rows, and its now(). */
  rowless?: { ids: string[]; at: Date };
}

/** What a worker claims in a turn (see claim.ts), and who it is. */
export interface WorkerClaim {
  workerId: string;
  types: string[];
  leaseMs: number;
  limit: number;
  startNow: number;
  /** At most this many of the tasks the type's commit makes runnable, beside `limit`. */
  continuations?: number;
}

export interface TaskDefinition<Payload = any> extends TaskHandler<Payload> {
  readonly spec: TaskSpec<Payload>;
}

export function defineTask<Payload>(
  spec: TaskSpec<Payload>,
  handler: TaskHandler<Payload>,
): TaskDefinition<Payload> {
  return { spec, ...handler };
}

/** A failure that retrying cannot fix (bad payload, the subject is gone): FAILED at once. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

/**
 * Not a failure of the task: what it waits on is unavailable for `delayMs` (it says when that
 * passes: a provider's cooldown). The task runs again after that wait; the run is POSTPONED and
 * spends the budget of postponements (TASK_MAX_POSTPONEMENTS), not an attempt.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** The task's payload as its type declares it; one that does not parse can never succeed. */
export function parsePayload<Payload>(
  definition: TaskDefinition<Payload>,
  payload: unknown,
): Payload {
  const parsed = definition.spec.payload.safeParse(payload);
  if (!parsed.success) throw new NonRetryableError(`bad payload: ${parsed.error.message}`);
  return parsed.data;
}
