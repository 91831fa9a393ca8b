// Background tasks as the API sees them: who may see a task, reading and listing, cancel and
// retry. Every change is written with its event by the queue's SQL (src/workers/queue) and
// announced on pub/sub after commit.
import type { Prisma } from '../../generated/prisma/client.js';
import type { TaskStatus } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { conflict, notFound } from '../../platform/errors.js';
import { rowIdOrNone } from '../../platform/ids.js';
import { connectionFromRows, decodeCursor, pageSize } from '../../platform/pagination.js';
import type { PubSub } from '../../platform/pubsub.js';
import { requestCancellation } from '../../workers/queue/cancel.js';
import { retryFinishedTask } from '../../workers/queue/requeue.js';
import { announceTaskEvent, pushCancellation, wakeWorkers } from '../../workers/queue/signals.js';
import type { TaskRow } from '../../workers/queue/task-row.js';
import type { Caller } from '../auth/caller.js';
import { taskVisibleTo } from '../auth/visibility.js';

/** The task behind a global id, if the caller may see it (as a `where`: a malformed id finds nothing). */
export function visibleTaskWhere(globalId: string, caller: Caller): Prisma.TaskWhereInput {
  return { id: rowIdOrNone('Task', globalId), ...taskVisibleTo(caller) };
}

export async function findTaskForCaller(globalId: string, caller: Caller) {
  return (await db().task.findFirst({ where: visibleTaskWhere(globalId, caller) })) ?? undefined;
}

export async function requireTaskForCaller(globalId: string, caller: Caller) {
  const task = await findTaskForCaller(globalId, caller);
  if (!task) throw notFound('Task');
  return task;
}

export interface TaskListArgs {
  status?: TaskStatus[] | null;
  first?: number | null;
  after?: string | null;
  agentId?: string;
}

/** Newest first, keyset-paginated. */
export async function listTasks(caller: Caller, args: TaskListArgs) {
  const limit = pageSize(args.first);
  const cursor = decodeCursor<[string, string]>(args.after, 2);
  const where: Prisma.TaskWhereInput = {
    ...taskVisibleTo(caller),
    ...(args.status?.length ? { status: { in: args.status } } : {}),
    ...(args.agentId ? { agentId: args.agentId } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    db().task.findMany({
      where: cursor
        ? {
            AND: [
              where,
              {
                OR: [
                  { createdAt: { lt: new Date(cursor[0]) } },
                  { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } },
                ],
              },
            ],
          }
        : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().task.count({ where }),
  ]);
  return {
    ...connectionFromRows(rows, limit, args.after, (row) => [row.createdAt.toISOString(), row.id]),
    totalCount,
  };
}

export interface CancelDeps {
  pubsub: PubSub;
  /** The after-finish step of the task's type, for a task cancelled before it ran (no worker sees it end). */
  taskFinished(task: TaskRow): Promise<void>;
}

export async function cancelTask(
  globalId: string,
  caller: Caller,
  { pubsub, taskFinished }: CancelDeps,
) {
  const task = await requireTaskForCaller(globalId, caller);
  const outcome = await requestCancellation(db(), task.id);
  if (!outcome) throw notFound('Task');
  if (!outcome.changed) {
    if (outcome.task.status === 'RUNNING') return outcome.task; // already asked to stop
    throw conflict(`the task already finished (${outcome.task.status})`);
  }
  await announceTaskEvent(pubsub, outcome.task);
  if (outcome.task.status === 'RUNNING') await pushCancellation(pubsub, task.id);
  else await taskFinished(outcome.task);
  return outcome.task;
}

export async function retryTask(globalId: string, caller: Caller, pubsub: PubSub) {
  const task = await requireTaskForCaller(globalId, caller);
  const retried = await retryFinishedTask(db(), task.id);
  if (!retried)
    throw conflict(
      `only FAILED, DEAD, TIMEOUT or CANCELLED tasks can be retried (this one is ${task.status})`,
    );
  await announceTaskEvent(pubsub, retried);
  await wakeWorkers(pubsub, retried.type);
  return retried;
}
