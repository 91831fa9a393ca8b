// The tasks row as raw SQL returns it, and the event log entry written with each change.
import { Prisma, type Task } from '../generated/prisma/client.js';
import type { TaskStatus } from '../generated/prisma/enums.js';
import type { TaskEventJson } from '../platform/pubsub.js';

export type { TaskEventJson };

/** The tasks row as the statements here return it (see taskColumns), with the event a hot-path statement wrote. */
export type TaskRow = Task & {
  /** From the statements that write the hot path's events (claim, finish): that event. */
  event?: TaskEventJson;
  /** From the claim: seconds from when it became runnable (enqueued, due, requeued) to its start. */
  queueWaitSeconds?: number | null;
};

/**
 * The columns of a TaskRow from the tasks row `alias`, for the results of prepared statements,
 * whose result type must not change while a release runs: a changed one fails every later run
 * ("cached plan must not change result type"). So the columns are named, never `*` (a
 * migration may add one), by Prisma's scalar fields (named as the columns are), and the
 * timestamps are cast to plain timestamptz (their precision is part of the type).
 */
const TASK_COLUMNS = Object.values(Prisma.TaskScalarFieldEnum);
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set([
  'runAt',
  'lockedUntil',
  'createdAt',
  'updatedAt',
  'startedAt',
  'completedAt',
] satisfies Array<keyof Task>);
/** Built once per alias: the hot path's statements ask for it on every run. */
const columnLists = new Map<string, Prisma.Sql>();
export function taskColumns(alias: string): Prisma.Sql {
  let list = columnLists.get(alias);
  if (!list) {
    const columns = TASK_COLUMNS.map((name) =>
      TIMESTAMP_COLUMNS.has(name)
        ? `${alias}."${name}"::timestamptz AS "${name}"`
        : `${alias}."${name}"`,
    );
    columnLists.set(alias, (list = Prisma.raw(columns.join(', '))));
  }
  return list;
}

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
