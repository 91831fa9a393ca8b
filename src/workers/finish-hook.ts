// Task types whose rows must commit with their tasks' ends (TaskHandler.finishInTransaction):
// their batch of ends and claims runs in a transaction with the types' own statements.
import pRetry from 'p-retry';
import {
  inPoolTransaction,
  inTransaction,
  type PoolTransaction,
  type Queryable,
  type Transaction,
} from '../platform/db.js';
import type { PubSub } from '../platform/pubsub.js';
import type { WorkerClaim, WorkerClaimed } from '../queue/task-definition.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import type { TaskChangeRow } from '../queue/write-changes.js';
import type { TaskRegistry } from './task-registry.js';

export interface FinishHook {
  types: ReadonlySet<string>;
  /** The rows an end of a hooked type commits with (its commitKey, else its name); else none. */
  keyOf(task: ClaimedTaskRow): string | undefined;
  run(finished: readonly ClaimedTaskRow[], tx: Transaction): Promise<void>;
  /** The one hooked type that commits its completed attempts with the claim (completeAndClaim). */
  completing?: string;
  complete?(
    completed: readonly ClaimedTaskRow[],
    tx: PoolTransaction,
    claim: WorkerClaim,
  ): Promise<WorkerClaimed>;
  /** The completing type's lockForCompletion (task-definition.ts), when it has one. */
  lockForCompletion?(
    completed: readonly ClaimedTaskRow[],
    client: Queryable,
    wait: boolean,
  ): Promise<Set<string>>;
  /** The completing type's writeUnwritten (task-definition.ts), when it has one. */
  writeUnwritten?(
    client: Queryable,
    tasks: readonly ClaimedTaskRow[],
    claim: { workerId: string; leaseMs: number },
  ): Promise<void>;
}

const ofType = (rows: readonly ClaimedTaskRow[], name: string) =>
  rows.filter((row) => row.type === name);

/** The registry's types with a finishInTransaction step; undefined when there are none. */
export function finishHookOf(registry: TaskRegistry, pubsub: PubSub): FinishHook | undefined {
  const hooked = [...registry.values()].filter((definition) => definition.finishInTransaction);
  if (hooked.length === 0) return undefined;
  // One type at most claims for the worker in its commits: the first that can.
  const completing = hooked.find((definition) => definition.completeAndClaim);
  const byType = new Map(hooked.map((definition) => [definition.spec.name, definition]));
  return {
    types: new Set(byType.keys()),
    keyOf(task) {
      const definition = byType.get(task.type);
      if (!definition) return undefined;
      const key = definition.commitKey?.(task);
      return key === undefined ? `type ${task.type}` : `key ${key}`;
    },
    async run(finished, tx) {
      for (const definition of hooked) {
        const rows = ofType(finished, definition.spec.name);
        if (rows.length) await definition.finishInTransaction!(rows, tx, pubsub);
      }
    },
    completing: completing?.spec.name,
    complete:
      completing && ((rows, tx, claim) => completing.completeAndClaim!(rows, tx, claim, pubsub)),
    lockForCompletion: completing?.lockForCompletion?.bind(completing),
    writeUnwritten: completing?.writeUnwritten?.bind(completing),
  };
}

/**
 * Whether a batch of ends can commit with `complete`: every hooked end is an attempt of the
 * completing type that completed or will be retried (a failure goes through its type's
 * policy, in inHookedTransaction; a retry reaches no hook).
 */
export function completesOnly(
  hook: FinishHook,
  ends: Iterable<{ kind: string; type: string }>,
): boolean {
  if (!hook.complete) return false;
  for (const end of ends) {
    if (!hook.types.has(end.type)) continue;
    if (end.type !== hook.completing || (end.kind !== 'COMPLETED' && end.kind !== 'RETRY'))
      return false;
  }
  return true;
}

/** A completing commit: what it wrote, and the tasks whose ends it put off to the next turn. */
export interface CompletingWritten extends WorkerClaimed {
  changed: TaskChangeRow[];
  deferred: ReadonlySet<string>;
}

/**
 * The completing type's locks for the attempts completing (as claimed), taken without
 * waiting unless `completing.wait` (`lockForCompletion`); the changes but those of the ends
 * put off (`write`); then the type's rows for the attempts they completed (each whole:
 * `ended`) with the worker's claim, in one transaction on a pooled connection; tried again on
 * failure as inHookedTransaction is. `unwritten`: completed attempts whose rows were never
 * written (task-row.ts), each with its end: the type's commit records them on its own rows
 * (no task row is written), and they are answered as ended rows marked `rowless`.
 */
export function inCompletingTransaction(
  hook: FinishHook,
  completing: { tasks: readonly ClaimedTaskRow[]; wait: boolean },
  write: (client: Queryable, deferred: ReadonlySet<string>) => Promise<TaskChangeRow[]>,
  ended: (row: TaskChangeRow) => ClaimedTaskRow | undefined,
  claim: WorkerClaim,
  unwritten: readonly ClaimedTaskRow[] = [],
): Promise<CompletingWritten> {
  return pRetry(
    () =>
      inPoolTransaction(async (tx) => {
        const deferred =
          hook.lockForCompletion && completing.tasks.length
            ? await hook.lockForCompletion(completing.tasks, tx.client, completing.wait)
            : new Set<string>();
        const changed = await write(tx.client, deferred);
        const completed: ClaimedTaskRow[] = [];
        for (const row of changed) {
          const task = row.kind === 'COMPLETED' ? ended(row) : undefined;
          if (task && task.type === hook.completing) completed.push(task);
        }
        const ends = new Map<string, ClaimedTaskRow>();
        for (const task of unwritten)
          if (!deferred.has(task.id)) {
            completed.push(task);
            ends.set(task.id, task);
          }
        const { rowless, ...claimed } = await hook.complete!(completed, tx, claim);
        for (const id of rowless?.ids ?? [])
          changed.push(rowlessEndRow(ends.get(id)!, rowless!.at));
        return { changed, deferred, ...claimed };
      }),
    { retries: 3, minTimeout: 5, maxTimeout: 50 },
  );
}

/** The kinds of change that end an attempt for good by themselves (a retry's DEAD does not). */
const ENDING = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT']);

/**
 * The changes (`write`), the hook with the attempts they ended (each whole: `ended`), then the
 * claims (`claim`) in one transaction: the claims come after the hook, so a task the hook made
 * (a dependent step) is claimed in the same commit rather than by the next poll or wake-up.
 * Tried again on failure (a deadlock or serialization failure between concurrent commits rolls
 * everything back); given up, the turn is tried again later.
 */
export function inHookedTransaction(
  hook: FinishHook,
  write: (tx: Transaction) => Promise<TaskChangeRow[]>,
  ended: (row: TaskChangeRow) => ClaimedTaskRow | undefined,
  claim: (tx: Transaction) => Promise<ClaimedTaskRow[]>,
): Promise<{ changed: TaskChangeRow[]; claimed: ClaimedTaskRow[] }> {
  return pRetry(
    () =>
      inTransaction(
        async (tx) => {
          const changed = await write(tx);
          const finished: ClaimedTaskRow[] = [];
          for (const row of changed) {
            const task = ENDING.has(row.kind) ? ended(row) : undefined;
            if (task) finished.push(task);
          }
          await hook.run(finished, tx);
          const claimed = await claim(tx);
          return { changed, claimed };
        },
        { timeout: 30_000 },
      ),
    { retries: 3, minTimeout: 5, maxTimeout: 50 },
  );
}

/** Whether any of `ends` (a turn's, or those waiting for one) is of a type `hook` commits. */
export function endsHooked(
  hook: FinishHook | undefined,
  ends: Iterable<{ task: { type: string } }>,
): boolean {
  if (!hook) return false;
  for (const end of ends) if (hook.types.has(end.task.type)) return true;
  return false;
}

/** A completed attempt's end as its type's commit recorded it (`unwritten` above), as a change's. */
function rowlessEndRow(task: ClaimedTaskRow, at: Date): TaskChangeRow {
  return {
    id: task.id,
    status: 'COMPLETED',
    progressPercent: 100,
    currentStep: 'completed',
    attempts: task.attempts,
    leaseLosses: 0,
    postponements: 0,
    runAt: at,
    lockedBy: null,
    lockedUntil: null,
    result: task.result,
    error: null,
    cancellationRequested: false,
    lastSequence: 1,
    updatedAt: at,
    startedAt: task.startedAt,
    completedAt: at,
    kind: 'COMPLETED',
    rowless: true,
    event: {
      taskId: task.id,
      sequence: 1,
      status: 'COMPLETED',
      progressPercent: 100,
      currentStep: 'completed',
      message: null,
      at: at.toISOString(),
    },
  };
}
