// Task types whose rows must commit with their tasks' ends (TaskHandler.finishInTransaction):
// their batch of ends and claims runs in a transaction with the types' own statements.
import pRetry from 'p-retry';
import { inTransaction, type Transaction } from '../platform/db.js';
import type { PubSub } from '../platform/pubsub.js';
import type { TaskRow } from '../queue/task-row.js';
import type { TaskChangeRow } from '../queue/write-changes.js';
import type { TaskRegistry } from './task-registry.js';

export interface FinishHook {
  types: ReadonlySet<string>;
  run(finished: readonly TaskRow[], tx: Transaction): Promise<void>;
}

const ofType = (rows: readonly TaskRow[], name: string) => rows.filter((row) => row.type === name);

/** The registry's types with a finishInTransaction step; undefined when there are none. */
export function finishHookOf(registry: TaskRegistry, pubsub: PubSub): FinishHook | undefined {
  const hooked = [...registry.values()].filter((definition) => definition.finishInTransaction);
  if (hooked.length === 0) return undefined;
  return {
    types: new Set(hooked.map((definition) => definition.spec.name)),
    async run(finished, tx) {
      for (const definition of hooked) {
        const rows = ofType(finished, definition.spec.name);
        if (rows.length) await definition.finishInTransaction!(rows, tx, pubsub);
      }
    },
  };
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
  ended: (row: TaskChangeRow) => TaskRow | undefined,
  claim: (tx: Transaction) => Promise<TaskRow[]>,
): Promise<{ changed: TaskChangeRow[]; claimed: TaskRow[] }> {
  return pRetry(
    () =>
      inTransaction(
        async (tx) => {
          const changed = await write(tx);
          const finished: TaskRow[] = [];
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
