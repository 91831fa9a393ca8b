// Background tasks as the API sees them: enqueue (with idempotency keys), read with
// queue position and estimates, cancel, retry, statistics. Every change is written with
// its event by the SQL in src/workers/sql and announced on pub/sub after commit.
import { db } from '../db.js';
import { badUserInput, conflict, notFound, violatedForeignKey } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { TaskPriority, TaskStatus } from '../generated/prisma/enums.js';
import type { PubSub } from '../pubsub.js';
import { requestCancellation } from '../workers/sql/cancel.js';
import { insertTask, releaseStaleIdempotencyKey } from '../workers/sql/enqueue.js';
import { selectQueuePosition, selectQueueStats, selectRecentDurationMs } from '../workers/sql/queue-stats.js';
import { retryFinishedTask } from '../workers/sql/requeue.js';
import type { TaskRow } from '../workers/sql/task-row.js';
import { taskDefinition } from '../workers/tasks/index.js';
import type { Caller } from './auth.js';
import { parseGlobalId } from './ids.js';
import { afterReportTaskFinished } from './topic-progress.js';
import { connectionFromRows, decodeCursor, pageSize } from './pagination.js';

export interface EnqueueInput {
  type: string;
  payload: unknown;
  priority: TaskPriority;
  ownerId: string;
  agentId?: string | null;
  topicId?: string | null;
  webhookUrl?: string | null;
  idempotencyKey?: string | null;
}

/**
 * The task row and its first event in one statement. A deleted or unknown agent is found
 * by the foreign key (NOT_FOUND), not by a query before: enqueueing is one round trip.
 */
export async function enqueueTask(input: EnqueueInput, pubsub: PubSub): Promise<TaskRow> {
  const definition = taskDefinition(input.type);
  const key = input.idempotencyKey?.trim() || null;
  if (key && key.length > 200) throw badUserInput('idempotencyKey must be at most 200 characters');
  if (key) await releaseStaleIdempotencyKey(db(), input.ownerId, key);
  const { task, created } = await insertTask(db(), {
    ...input,
    idempotencyKey: key,
    maxAttempts: definition.maxAttempts,
    timeoutSeconds: definition.timeoutSeconds,
  }).catch((error: unknown) => {
    if (violatedForeignKey(error) === 'tasks_agentId_fkey') throw notFound('Agent');
    throw error;
  });
  if (created) {
    // Not awaited: the task is committed, and these are signals (publish never throws; a
    // lost one is covered by the polls). Waiting for Redis's replies added its round trips
    // to every enqueue's latency.
    void pubsub.publish('taskEvents', task.id, { taskId: task.id, sequence: task.lastSequence });
    void pubsub.publish('taskReady', 'queue', { type: task.type });
  }
  return task;
}

/** Admins see every task; everyone else only their own (another user's task is NOT_FOUND). */
function visibleTo(caller: Caller): Prisma.TaskWhereInput {
  return caller.scopes.has('ADMIN') ? {} : { ownerId: caller.userId };
}

export async function findTaskForCaller(globalId: string, caller: Caller) {
  const id = parseGlobalId('Task', globalId);
  const task = id ? await db().task.findFirst({ where: { id, ...visibleTo(caller) } }) : null;
  return task ?? undefined;
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
    ...visibleTo(caller),
    ...(args.status?.length ? { status: { in: args.status } } : {}),
    ...(args.agentId ? { agentId: args.agentId } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    db().task.findMany({
      where: cursor
        ? { AND: [where, { OR: [{ createdAt: { lt: new Date(cursor[0]) } }, { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } }] }] }
        : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().task.count({ where }),
  ]);
  return { ...connectionFromRows(rows, limit, args.after, (row) => [row.createdAt.toISOString(), row.id]), totalCount };
}

export async function cancelTask(globalId: string, caller: Caller, pubsub: PubSub) {
  const task = await requireTaskForCaller(globalId, caller);
  const outcome = await requestCancellation(db(), task.id);
  if (!outcome) throw notFound('Task');
  if (!outcome.changed) {
    if (outcome.task.status === 'RUNNING') return outcome.task; // already asked to stop
    throw conflict(`the task already finished (${outcome.task.status})`);
  }
  await pubsub.publish('taskEvents', task.id, { taskId: task.id, sequence: outcome.task.lastSequence });
  if (outcome.task.status === 'RUNNING') await pubsub.publish('taskCancel', 'workers', { taskId: task.id });
  // Cancelled before it ran: no worker will see it end (a report's topic fails now).
  else await afterReportTaskFinished(outcome.task, pubsub);
  return outcome.task;
}

export async function retryTask(globalId: string, caller: Caller, pubsub: PubSub) {
  const task = await requireTaskForCaller(globalId, caller);
  const retried = await retryFinishedTask(db(), task.id);
  if (!retried) throw conflict(`only FAILED, DEAD, TIMEOUT or CANCELLED tasks can be retried (this one is ${task.status})`);
  await pubsub.publish('taskEvents', task.id, { taskId: task.id, sequence: retried.lastSequence });
  await pubsub.publish('taskReady', 'queue', { type: retried.type });
  return retried;
}

export const queuePosition = (taskId: string) => selectQueuePosition(db(), taskId);

/** A worker counts as alive while its heartbeat is this recent. */
export const WORKER_ALIVE_WITHIN_MS = 15_000;

export async function queueStats() {
  const stats = await selectQueueStats(db(), WORKER_ALIVE_WITHIN_MS);
  return {
    ...stats,
    byPriority: { HIGH: stats.pendingHigh, MEDIUM: stats.pendingMedium, LOW: stats.pendingLow },
  };
}

/**
 * When the task should be done: from the mean run time of recent tasks of its type; a
 * pending task waits for the tasks ahead of it spread over the live workers' slots.
 */
export async function estimateCompletion(task: { id: string; type: string; status: TaskStatus; startedAt: Date | null; progressPercent: number }) {
  if (task.status !== 'PENDING' && task.status !== 'RUNNING') return null;
  const duration = (await selectRecentDurationMs(db(), task.type)) ?? taskDefinition(task.type).timeoutSeconds * 100;
  if (task.status === 'RUNNING') {
    const started = task.startedAt?.getTime() ?? Date.now();
    const elapsed = Date.now() - started;
    const byProgress = task.progressPercent > 5 ? (elapsed * 100) / task.progressPercent : duration;
    return new Date(started + Math.max(elapsed, byProgress));
  }
  const [position, slots] = await Promise.all([
    selectQueuePosition(db(), task.id),
    db().worker.aggregate({ _sum: { concurrency: true }, where: { lastHeartbeatAt: { gt: new Date(Date.now() - WORKER_ALIVE_WITHIN_MS) } } }),
  ]);
  const capacity = Math.max(1, slots._sum.concurrency ?? 1);
  return new Date(Date.now() + (Math.ceil((position ?? 1) / capacity) + 0) * duration + duration);
}

/** After a task ends: fail its topic if it was a report that did not complete; queue the delivery of its webhook (never blocking the task itself). */
export async function afterTaskFinished(task: TaskRow, pubsub: PubSub): Promise<void> {
  await afterReportTaskFinished(task, pubsub);
  if (!task.webhookUrl || task.type === 'webhook_delivery') return;
  await enqueueTask(
    {
      type: 'webhook_delivery',
      payload: { taskId: task.id },
      priority: 'HIGH',
      ownerId: task.ownerId!,
      idempotencyKey: `webhook:${task.id}:${task.lastSequence}`,
    },
    pubsub,
  );
}
