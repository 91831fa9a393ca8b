// Background tasks as the API sees them: who may see a task (its team's members), reading and
// listing, cancel and retry (write in its team). Every change is written with its event by the
// queue's SQL (src/queue) and announced on pub/sub after commit.
import type { Prisma, Task } from '../../generated/prisma/client.js';
import type { TaskPriority, TaskStatus } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { BadInputError, conflict, notFound } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import {
  connectionFromRows,
  newestFirstAfterKey,
  newestFirstCursor,
  pageSize,
} from '../../platform/pagination.js';
import type { PubSub } from '../../platform/pubsub.js';
import { requestCancellation } from '../../queue/cancel.js';
import { retryFinishedTask } from '../../queue/retry-finished-task.js';
import { announceTaskEvent, pushCancellation, wakeWorkers } from '../../queue/signals.js';
import type { ClaimedTaskRow } from '../../queue/task-row.js';
import { ATTEMPT_IN_ROW_STATUSES } from '../../queue/write-changes.js';

export type { TaskRow } from '../../queue/task-row.js';
export type { TaskCount } from './sql/select-task-page.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds, requireWrite } from '../auth/permissions.js';
import { taskVisibleTo } from '../auth/visibility.js';
import {
  countTasks,
  selectTaskPage,
  type TaskCount,
  type TaskPageFilter,
} from './sql/select-task-page.js';

/** The task, if the caller may see it (as a `where`: a malformed id finds nothing). */
export function visibleTaskWhere(taskId: string, caller: Caller): Prisma.TaskWhereInput {
  return { AND: [rowIdWhere(taskId), taskVisibleTo(caller)] };
}

export async function findTaskForCaller(taskId: string, caller: Caller) {
  return (await db().task.findFirst({ where: visibleTaskWhere(taskId, caller) })) ?? undefined;
}

export async function requireTaskForCaller(taskId: string, caller: Caller) {
  const task = await findTaskForCaller(taskId, caller);
  if (!task) throw notFound('Task');
  return task;
}

/** A task the caller may cancel or retry: write in its team (FORBIDDEN when only seen). */
async function requireWritableTask(taskId: string, caller: Caller) {
  const task = await requireTaskForCaller(taskId, caller);
  requireWrite(caller, task.teamId, 'Task', true);
  return task;
}

export interface TaskListArgs {
  status?: TaskStatus[] | null;
  type?: string[] | null;
  priority?: TaskPriority[] | null;
  /** Created at or after. */
  from?: Date | null;
  /** Created before. */
  to?: Date | null;
  workerId?: string | null;
  first?: number | null;
  after?: string | null;
  agentId?: string;
}

/** How an attempt ended (TaskAttemptOutcome in the schema; attemptEntry writes them). */
export const TASK_ATTEMPT_OUTCOMES = [
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'CANCELLED',
  'LEASE_LOST',
  'INTERRUPTED',
  'POSTPONED',
  'HANDED_BACK',
] as const;

/** One ended attempt of a task, as its attemptLog holds it (write-changes.ts attemptEntry). */
export interface TaskAttemptRow {
  attempt: number;
  workerId: string | null;
  startedAt: Date | null;
  endedAt: Date;
  outcome: (typeof TASK_ATTEMPT_OUTCOMES)[number];
  error: string | null;
}

/** What a task's attempt history is read from: its log, and the columns of its last attempt. */
export type AttemptHistorySource = Pick<
  Task,
  'attemptLog' | 'status' | 'attempts' | 'workerId' | 'startedAt' | 'completedAt' | 'error'
>;

const ATTEMPT_IN_ROW: ReadonlySet<string> = new Set(ATTEMPT_IN_ROW_STATUSES);

/**
 * Every ended attempt, oldest first: the log's entries, then the last attempt of a task that
 * ended COMPLETED, FAILED or TIMEOUT, which its own columns describe (attemptEntry).
 */
export function attemptHistoryOf(task: AttemptHistorySource): TaskAttemptRow[] {
  const log = task.attemptLog;
  const entries = Array.isArray(log)
    ? (log as Array<Omit<TaskAttemptRow, 'startedAt' | 'endedAt'> & Record<string, string>>)
    : [];
  const history: TaskAttemptRow[] = entries.map((entry) => ({
    attempt: entry.attempt,
    workerId: entry.workerId ?? null,
    startedAt: entry.startedAt ? new Date(entry.startedAt) : null,
    endedAt: new Date(entry.endedAt!),
    outcome: entry.outcome,
    error: entry.error ?? null,
  }));
  if (ATTEMPT_IN_ROW.has(task.status) && task.attempts > 0 && task.completedAt)
    history.push({
      attempt: task.attempts,
      workerId: task.workerId,
      startedAt: task.startedAt,
      endedAt: task.completedAt,
      outcome: task.status as TaskAttemptRow['outcome'],
      // A completed attempt has none; the column may still hold an earlier attempt's.
      error: task.status === 'COMPLETED' ? null : task.error,
    });
  return history;
}

/** The list's filters, of the tasks the caller may see (each one a trailing key of the list's index). */
function taskPageFilter(caller: Caller, args: TaskListArgs): TaskPageFilter {
  if (args.from && args.to && args.from >= args.to)
    throw new BadInputError('`from` must be before `to`', {}, 'from');
  return {
    teamIds: readableTeamIds(caller),
    status: args.status ?? undefined,
    type: args.type ?? undefined,
    priority: args.priority ?? undefined,
    from: args.from ?? undefined,
    to: args.to ?? undefined,
    workerId: args.workerId ?? undefined,
    agentId: args.agentId,
  };
}

/** The page's tasks again with the relations the selection reads, in the page's order. */
async function withRelations(page: Task[], include: Prisma.TaskInclude) {
  const found = await db().task.findMany({
    include,
    where: { id: { in: page.map((row) => row.id) } },
  });
  const byId = new Map(found.map((row) => [row.id, row]));
  // A task deleted in between (retention) is left out.
  return page.flatMap((row) => byId.get(row.id) ?? []);
}

/** Past this many matches, a task list's totalCount is the planner's estimate. */
export const TASK_COUNT_EXACT_CAP = 10_000;

/**
 * Newest first, keyset-paginated on (createdAt, id), by SQL (select-task-page.ts). `query`:
 * what the selection loads with the page (relations read for the whole page, no N+1).
 * `countNow`: the selection wants the total, counted beside the page rather than after it.
 */
export async function listTasks(
  caller: Caller,
  args: TaskListArgs,
  query: { include?: Prisma.TaskInclude } = {},
  { countNow = false }: { countNow?: boolean } = {},
) {
  const limit = pageSize(args.first);
  const cursor = newestFirstAfterKey(args.after);
  const filter = taskPageFilter(caller, args);
  let counted: Promise<TaskCount> | undefined = countNow
    ? countTasks(db(), filter, TASK_COUNT_EXACT_CAP)
    : undefined;
  // Its failure is its readers' (totalCount's), not an unhandled rejection when the page fails.
  counted?.catch(() => undefined);
  const page = await selectTaskPage(db(), filter, limit + 1, cursor);
  const rows =
    query.include && Object.keys(query.include).length
      ? await withRelations(page, query.include)
      : page;
  return {
    ...connectionFromRows(rows, limit, args.after, newestFirstCursor),
    /** Counted when first asked for (totalCount, totalCountIsEstimate), once for both. */
    count: () => (counted ??= countTasks(db(), filter, TASK_COUNT_EXACT_CAP)),
  };
}

export interface CancelDeps {
  pubsub: PubSub;
  /** The after-finish step of the task's type, for a task cancelled before it ran (no worker sees it end). */
  taskFinished(task: ClaimedTaskRow): Promise<void>;
}

export async function cancelTask(
  taskId: string,
  caller: Caller,
  { pubsub, taskFinished }: CancelDeps,
) {
  const task = await requireWritableTask(taskId, caller);
  const outcome = await requestCancellation(db(), task.id);
  if (!outcome) throw notFound('Task');
  if (!outcome.changed) {
    if (outcome.task.status === 'RUNNING') return outcome.task; // already asked to stop
    throw conflict(`the task already finished (${outcome.task.status})`);
  }
  await announceTaskEvent(pubsub, outcome.task);
  if (outcome.task.status === 'RUNNING')
    await pushCancellation(pubsub, task.id, outcome.task.lastSequence);
  else await taskFinished(outcome.task);
  return outcome.task;
}

export async function retryTask(taskId: string, caller: Caller, pubsub: PubSub) {
  const task = await requireWritableTask(taskId, caller);
  const retried = await retryFinishedTask(db(), task.id);
  if (!retried)
    throw conflict(
      `only FAILED, DEAD, TIMEOUT or CANCELLED tasks can be retried (this one is ${task.status})`,
    );
  await announceTaskEvent(pubsub, retried);
  await wakeWorkers(pubsub, retried.type);
  return retried;
}
