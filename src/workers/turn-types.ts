// What a worker's turns (turns.ts) take in and hand out: the options, an attempt's end and
// progress as the runner reports them, an end waiting to be written, and one turn's writes.
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import type { Backoff, ChangedTask, TaskChange } from '../queue/write-changes.js';
import type { FinishHook } from './finish-hook.js';
import type { TurnWrite } from './turn-statements.js';

/** An attempt's end, as the runner reports it. */
export type AttemptEndChange = Extract<
  TaskChange,
  { kind: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'RETRY' }
>;

export type ProgressChange = Extract<TaskChange, { kind: 'PROGRESS' }>;

export interface TurnsOptions {
  workerId: string;
  types: string[];
  leaseMs: number;
  backoff: Backoff;
  /** Slots: tasks running at once. */
  concurrency: number;
  /** Tasks claimed in one statement, at most; the local queue holds up to twice this many. */
  batchSize: number;
  /**
   * With the queue dry, how long an end waits for a claim to go with (a wake-up's, or any
   * turn's) before it is written alone (0: never): at 500 tasks a second the next wake-up
   * comes within 2 ms.
   */
  endHoldMs: number;
  pubsub: PubSub;
  log: Logger;
  /** Types whose ends commit with their own rows; their turns run in a transaction. */
  hook?: FinishHook;
  /** How many tasks run and wait in the local queue now (the claim's room). */
  load(): { running: number; waiting: number };
  /** Claimed rows in start order (a startedAt: for a free slot); sentAt: the claim's sending. */
  claimed(tasks: ClaimedTaskRow[], sentAt: number): void;
  /**
   * A claim came back: it asked for `asked` tasks and the queue gave `fromQueue`, beside
   * what a hooked commit made runnable itself (`total` counts both). For the claim counts.
   */
  claimReturned?(claim: { asked: number; fromQueue: number; total: number }): void;
}

export interface PendingEnd {
  change: AttemptEndChange;
  /** The task as claimed: with the changed columns, the row its end answers with. */
  task: ClaimedTaskRow;
  resolve(row: ChangedTask | undefined): void;
  /** Put off by a commit (its locks were another's): how many times, and not before when. */
  putOff?: { times: number; until: number };
  /** Waiting for a claim to go with, until then (endHoldMs): no turn of its own before. */
  heldUntil?: number;
}

/** What one turn writes: its changes, the ends among them, and its claim. */
export interface Turn extends TurnWrite {
  /** The commit keys of its hooked ends (FinishHook.keyOf): no other turn writes those. */
  keys: ReadonlySet<string>;
  ends: Map<string, PendingEnd>;
  progress: Map<string, ProgressChange>;
  /** The unrecorded starts its changes carry: written, it records those and no later one. */
  carried: ReadonlyMap<string, object>;
}
