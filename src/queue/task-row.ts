// The tasks row as raw SQL returns it, and the event log entry written with each change.
import { Prisma, type Task } from '../generated/prisma/client.js';
import type { TaskStatus } from '../generated/prisma/enums.js';
import type { TaskEventJson } from '../platform/pubsub.js';

export type { TaskEventJson };

/** The tasks row as the statements here return it (see taskColumns), with the event a hot-path statement wrote. */
export type TaskRow = Omit<Task, 'attemptLog'> & {
  /** From the statements that write the hot path's events (claim, finish): that event. */
  event?: TaskEventJson;
  /** From the claim: seconds from when it became runnable (enqueued, due, requeued) to its start. */
  queueWaitSeconds?: number | null;
  /**
   * What the commit that claimed it read for its run, when its type's commit claims for the
   * worker (completeAndClaim): the handler need not read it again. Its shape is the type's.
   */
  prefetched?: unknown;
  /**
   * Claimed by a commit that did not write its row (a type's continuation, completeAndClaim):
   * the type writes it (TaskDefinition.writeUnwritten) before anything else of the attempt is,
   * or its commit records the end without one (`rowless`). True until then.
   */
  unwritten?: boolean;
  /**
   * Ended while unwritten, and recorded by its type's commit on its own rows alone (a workflow
   * step's): no task row, task event or task webhook ever names it (docs/workflows.md).
   */
  rowless?: true;
};

/**
 * The columns a claim does not read: two it sets to the worker's own id (lockedBy, workerId)
 * and four no attempt reads (createdAt, runAt, updatedAt, lockedUntil). An end's row brings
 * back the four of them it changes (CHANGED_COLUMNS). Each was a string or a Date parsed per
 * task; without them a worker's Node CPU per no-op task fell by about a sixth (bench/README.md,
 * "Queue").
 */
export const NOT_CLAIMED_COLUMNS = [
  'createdAt',
  'runAt',
  'updatedAt',
  'lockedUntil',
  'lockedBy',
  'workerId',
] as const satisfies ReadonlyArray<keyof Task>;
const NOT_CLAIMED: ReadonlySet<string> = new Set(NOT_CLAIMED_COLUMNS);

/** A task as a claim returns it (claimedTaskColumns): what its attempt and its end read. */
export type ClaimedTaskRow = Omit<TaskRow, (typeof NOT_CLAIMED_COLUMNS)[number]>;

/**
 * The attempts a task has spent of its maxAttempts, its current run's included: runs that lost
 * their lease or were postponed spend none. The same count as the SQL that decides a retry or
 * DEAD and its backoff (write-changes.ts).
 */
export const attemptsSpent = (task: Pick<Task, 'attempts' | 'leaseLosses' | 'postponements'>) =>
  task.attempts - task.leaseLosses - task.postponements;

/**
 * The columns of a TaskRow from the tasks row `alias`, for the results of prepared statements,
 * whose result type must not change while a release runs: a changed one fails every later run
 * ("cached plan must not change result type"). So the columns are named, never `*` (a
 * migration may add one), by Prisma's scalar fields (named as the columns are), and the
 * timestamps are cast to plain timestamptz (their precision is part of the type).
 */
// Not the attempt log: it grows with the attempts, and the queue's statements never read it.
const TASK_COLUMNS = Object.values(Prisma.TaskScalarFieldEnum).filter(
  (name) => name !== 'attemptLog',
);
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set([
  'runAt',
  'lockedUntil',
  'createdAt',
  'updatedAt',
  'startedAt',
  'completedAt',
] satisfies Array<keyof Task>);
/** Built once per alias and shape: the hot path's statements ask for them on every run. */
const columnLists = new Map<string, Prisma.Sql>();
const column = (alias: string, name: string) =>
  TIMESTAMP_COLUMNS.has(name)
    ? `${alias}."${name}"::timestamptz AS "${name}"`
    : `${alias}."${name}"`;
function columnList(key: string, build: () => string[]): Prisma.Sql {
  let list = columnLists.get(key);
  if (!list) columnLists.set(key, (list = Prisma.raw(build().join(', '))));
  return list;
}

export function taskColumns(alias: string): Prisma.Sql {
  return columnList(`all ${alias}`, () => TASK_COLUMNS.map((name) => column(alias, name)));
}

/**
 * A ClaimedTaskRow's columns from the tasks row `alias`: taskColumns, with NULL in place of
 * those it does not read. NULL, not left out: every row then has the shape (V8's hidden class)
 * it ends with once an end's row fills some in (changedTask), rather than changing it then.
 */
export function claimedTaskColumns(alias: string): Prisma.Sql {
  return columnList(`claimed ${alias}`, () =>
    TASK_COLUMNS.map((name) => (NOT_CLAIMED.has(name) ? `NULL AS "${name}"` : column(alias, name))),
  );
}

/**
 * A ClaimedTaskRow's columns, in taskColumns' order, for a claimed task no tasks row holds yet
 * (`unwritten`): each column's value as given by name (typed as its column is), NULL for the
 * rest and for those a claim does not read. Column by column: a row built by
 * jsonb_populate_record cost 16 µs of PostgreSQL's CPU against about 2.
 */
export function claimedTaskColumnsOf(values: Partial<Record<keyof Task, Prisma.Sql>>): Prisma.Sql {
  return Prisma.join(
    TASK_COLUMNS.map((name) => {
      const value = NOT_CLAIMED.has(name) ? undefined : values[name];
      return value
        ? Prisma.sql`${value} AS ${Prisma.raw(`"${name}"`)}`
        : Prisma.raw(`NULL AS "${name}"`);
    }),
    ', ',
  );
}

/** Every column of the row, the attempt log too: a Task as Prisma reads it (the task list's page). */
export function wholeTaskColumns(alias: string): Prisma.Sql {
  return columnList(`whole ${alias}`, () =>
    Object.values(Prisma.TaskScalarFieldEnum).map((name) => column(alias, name)),
  );
}

/**
 * The columns a worker's change can alter (write-changes.ts), the only ones its statement
 * returns: the worker holds the rest from the claim (changedTask puts the two together).
 * Parsing whole rows twice per task was the largest part of a busy worker's CPU.
 */
export const CHANGED_COLUMNS = [
  'id',
  'status',
  'progressPercent',
  'currentStep',
  'attempts',
  'leaseLosses',
  'postponements',
  'runAt',
  'lockedBy',
  'lockedUntil',
  'result',
  'error',
  'cancellationRequested',
  'lastSequence',
  'updatedAt',
  'startedAt',
  'completedAt',
] as const satisfies ReadonlyArray<keyof Task>;
export type ChangedColumns = Pick<Task, (typeof CHANGED_COLUMNS)[number]>;

/** CHANGED_COLUMNS of the row `alias`. */
export function changedColumns(alias: string): Prisma.Sql {
  return columnList(`changed ${alias}`, () => CHANGED_COLUMNS.map((name) => column(alias, name)));
}

/**
 * A TaskRow's columns in taskColumns' order: CHANGED_COLUMNS of the row `alias`, NULL for the
 * rest (a changed row beside claimed ones in one result: change-and-claim.ts).
 */
export function changedTaskColumns(alias: string): Prisma.Sql {
  return columnList(`changed whole ${alias}`, () => {
    const changed: ReadonlySet<string> = new Set(CHANGED_COLUMNS);
    return TASK_COLUMNS.map((name) =>
      changed.has(name) ? column(alias, name) : `NULL AS "${name}"`,
    );
  });
}

/** A TaskRow's columns in taskColumns' order, all NULL: a row of other results in a UNION of tasks. */
export function nullTaskColumns(): Prisma.Sql {
  return columnList('null', () => TASK_COLUMNS.map((name) => `NULL AS "${name}"`));
}

/**
 * Tasks as the task lists' indexes split them (schema.prisma): all but the RUNNING ones (the
 * lists' partial indexes) and the RUNNING ones (tasks_lockedUntil_idx). Each a literal: the
 * planner uses a partial index only for a condition it can see implies the index's own.
 */
export const TASK_LIST_PARTS = {
  rest: Prisma.sql`status <> 'RUNNING'`,
  running: Prisma.sql`status = 'RUNNING'`,
} as const;

export const TERMINAL_STATUSES: readonly TaskStatus[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'DEAD',
];
const terminal = new Set<string>(TERMINAL_STATUSES);
/** A Set: the task feed asks this once per subscriber per event. */
export const isTerminal = (status: TaskStatus) => terminal.has(status);
