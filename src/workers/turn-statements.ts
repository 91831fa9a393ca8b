// A worker turn's statements: its changes (starts, progress, ends, each with its event) and
// its claim, side by side as two statements, each its own commit. Not one statement: a claim
// that met rows another turn had just claimed locked them until the whole turn committed
// (PostgreSQL locks the newest version of a row before rechecking it, and keeps the lock when
// the recheck fails), and the next turn's ends of those very tasks waited for it
// (bench/README.md, "Queue"). But for a few changes (tasks coming one at a time): then one
// statement, whose commit waits for little (change-and-claim.ts). A hooked turn (finish-hook.ts)
// is one transaction: the ends, the type's rows and the claim, so the tasks its commit made
// runnable are claimed first.
import { poolQueryable, type Queryable } from '../platform/db.js';
import { CHANGES_WITH_A_CLAIM, writeChangesAndClaim } from '../queue/change-and-claim.js';
import { claimTasks, type Claim } from '../queue/claim.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import {
  changedTask,
  writeTaskChanges,
  type Backoff,
  type TaskChange,
  type TaskChangeRow,
} from '../queue/write-changes.js';
import {
  completesOnly,
  inCompletingTransaction,
  inHookedTransaction,
  type FinishHook,
} from './finish-hook.js';
import type { UnwrittenTasks } from './unwritten-tasks.js';

/** What a turn wrote, and the tasks whose ends it put off to the next turn (their changes unwritten). */
export interface TurnWritten {
  changed: TaskChangeRow[];
  deferred: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

/** What a turn's claim brought: the rows, of which `continued` a hooked commit made runnable. */
export interface Claimed {
  claimed: ClaimedTaskRow[];
  continued: number;
}

/** What one turn writes. */
export interface TurnWrite {
  changes: TaskChange[];
  /** The ends among the changes, by task id, with the rows they were claimed as. */
  ends: ReadonlyMap<
    string,
    { change: { kind: string }; task: ClaimedTaskRow; putOff?: { times: number } }
  >;
  /** `continuations`: a hooked turn's room for the tasks its commit makes (turns.ts, nextTurn). */
  claim: { limit: number; startNow: number; continuations?: number };
  hooked: boolean;
}

export interface TurnWriter {
  workerId: string;
  types: string[];
  leaseMs: number;
  backoff: Backoff;
  hook?: FinishHook;
  /** Claimed tasks whose rows are not written yet (unwritten-tasks.ts). */
  unwritten?: UnwrittenTasks;
}

/** The turn's changes and its claim, each settling on its own (one transaction when hooked). */
export function writeTurn(
  writer: TurnWriter,
  turn: TurnWrite,
): [Promise<TurnWritten>, Promise<Claimed>] {
  const { workerId, types, leaseMs, backoff, hook } = writer;
  const { claim } = turn;
  const fullClaim: Claim & { continuations?: number } = { types, leaseMs, ...claim };
  const completesAlone = hook !== undefined && turn.hooked && completesOnly(hook, endKinds(turn));
  const { changes, unwritten, endsUnwritten } = splitUnwritten(writer, turn, completesAlone);
  const writeRows = (client: Queryable) =>
    unwritten.length && hook?.writeUnwritten
      ? hook.writeUnwritten(client, unwritten, { workerId, leaseMs })
      : Promise.resolve();
  if (hook && turn.hooked) {
    const ended = (row: TaskChangeRow) => {
      const end = turn.ends.get(row.id);
      return end && changedTask(end.task, row);
    };
    const together = completesAlone
      ? inCompletingTransaction(
          hook,
          completing(hook, turn),
          async (client, deferred) => {
            await writeRows(client);
            return writeTaskChanges(
              client,
              workerId,
              deferred.size ? changes.filter((change) => !deferred.has(change.taskId)) : changes,
              backoff,
            );
          },
          ended,
          { workerId, ...fullClaim },
          endsUnwritten,
        )
      : inHookedTransaction(
          hook,
          async (tx) => {
            await writeRows(tx.client);
            return writeTaskChanges(tx.client, workerId, changes, backoff);
          },
          ended,
          (tx) =>
            claim.limit > 0 ? claimTasks(tx.client, workerId, fullClaim) : Promise.resolve([]),
        ).then((written) => ({ ...written, deferred: NONE, continued: 0 }));
    return [
      together.then(({ changed, deferred }) => ({ changed, deferred })),
      together.then(({ claimed, continued }) => ({ claimed, continued })),
    ];
  }
  const client = poolQueryable();
  if (unwritten.length) {
    // Rare (a continuation's first change outside a hooked turn: its start, its progress):
    // its row first, then the turn as it would have gone.
    const rowsWritten = writeRows(client);
    const written = rowsWritten.then(() => writeTaskChanges(client, workerId, changes, backoff));
    return [
      written.then((changed) => ({ changed, deferred: NONE })),
      rowsWritten
        .catch(() => undefined)
        .then(() =>
          claim.limit > 0
            ? claimTasks(client, workerId, fullClaim).then((claimed) => ({ claimed, continued: 0 }))
            : { claimed: [], continued: 0 },
        ),
    ];
  }
  if (claim.limit > 0 && changes.length > 0 && changes.length <= CHANGES_WITH_A_CLAIM) {
    const both = writeChangesAndClaim(client, workerId, changes, backoff, fullClaim);
    return [
      both.then(({ changed }) => ({ changed, deferred: NONE })),
      both.then(({ claimed }) => ({ claimed, continued: 0 })),
    ];
  }
  return [
    changes.length
      ? writeTaskChanges(client, workerId, changes, backoff).then((changed) => ({
          changed,
          deferred: NONE,
        }))
      : Promise.resolve({ changed: [], deferred: NONE }),
    claim.limit > 0
      ? claimTasks(client, workerId, fullClaim).then((claimed) => ({ claimed, continued: 0 }))
      : Promise.resolve({ claimed: [], continued: 0 }),
  ];
}

/**
 * Put off this many times (about 2 s: turns.ts tries again after 2 ms, doubling up to 200),
 * an end's commit waits for its locks: a transaction that holds them that long is not another
 * worker's commit, and the end must not wait for ever.
 */
const PUT_OFF_TIMES_BEFORE_WAITING = 16;

/**
 * The tasks, as claimed, whose ends in the turn complete an attempt of the completing type,
 * and whether the commit waits for their locks (one of them was put off often enough).
 */
function completing(hook: FinishHook, turn: TurnWrite): { tasks: ClaimedTaskRow[]; wait: boolean } {
  const tasks: ClaimedTaskRow[] = [];
  let wait = false;
  for (const end of turn.ends.values())
    if (end.change.kind === 'COMPLETED' && end.task.type === hook.completing) {
      tasks.push(end.task);
      wait ||= (end.putOff?.times ?? 0) >= PUT_OFF_TIMES_BEFORE_WAITING;
    }
  return { tasks, wait };
}

function* endKinds(turn: TurnWrite): Iterable<{ kind: string; type: string }> {
  for (const end of turn.ends.values()) yield { kind: end.change.kind, type: end.task.type };
}

/**
 * The turn's changes of tasks whose rows are not written yet (writer.unwritten): their rows,
 * written first (`unwritten`); but a completed attempt of the completing type in a turn that
 * completes alone, which its commit records on the type's own rows with no task row
 * (`endsUnwritten`: its claimed row with the end put on a copy), and which leaves `changes`.
 */
function splitUnwritten(
  writer: TurnWriter,
  turn: TurnWrite,
  completesAlone: boolean,
): { changes: TaskChange[]; unwritten: ClaimedTaskRow[]; endsUnwritten: ClaimedTaskRow[] } {
  const rows = writer.unwritten;
  if (!rows?.size) return { changes: turn.changes, unwritten: [], endsUnwritten: [] };
  const changes: TaskChange[] = [];
  const unwritten: ClaimedTaskRow[] = [];
  const endsUnwritten: ClaimedTaskRow[] = [];
  const now = Date.now();
  for (const change of turn.changes) {
    const task = rows.get(change.taskId);
    if (!task || task.attempts !== change.attempt) {
      changes.push(change);
    } else if (
      completesAlone &&
      change.kind === 'COMPLETED' &&
      task.type === writer.hook?.completing
    ) {
      const startedAt =
        task.startedAt ??
        (change.startedMsAgo == null ? null : new Date(now - change.startedMsAgo));
      endsUnwritten.push({
        ...task,
        status: 'COMPLETED',
        result: change.result ?? null,
        startedAt,
        completedAt: new Date(now),
      });
    } else {
      unwritten.push(task);
      changes.push(change);
    }
  }
  return { changes, unwritten, endsUnwritten };
}
