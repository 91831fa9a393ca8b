// A page of the task list, newest first on (createdAt, id), and its total, in two parts: the
// list's indexes (tasks(teamId, createdAt desc, id desc, …) and tasks(createdAt desc, id desc,
// …)) hold every task but the RUNNING ones, so that a claim writes no entry into either, and
// the RUNNING ones (as many as the workers' slots and local queues hold) come off the running
// tasks' index (TASK_LIST_PARTS). By SQL, not Prisma: Prisma sends an enum as text cast to the
// enum, which PostgreSQL does not evaluate when it plans, so it cannot tell that a partial
// index holds the rows asked for.
import { Prisma, type Task } from '../../../generated/prisma/client.js';
import type { TaskPriority, TaskStatus } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';
import { TASK_LIST_PARTS, wholeTaskColumns } from '../../../queue/task-row.js';

export interface TaskPageFilter {
  /** Only these teams' tasks; undefined: every team's. */
  teamIds?: readonly string[];
  status?: readonly TaskStatus[];
  type?: readonly string[];
  priority?: readonly TaskPriority[];
  from?: Date;
  to?: Date;
  workerId?: string;
  agentId?: string;
}

const { rest: NOT_RUNNING, running: RUNNING } = TASK_LIST_PARTS;

/** The parts a status filter reads: without one, both (an empty one matches nothing anyway). */
function parts(status: readonly TaskStatus[] | undefined): Prisma.Sql[] {
  if (!status?.length) return [NOT_RUNNING, RUNNING];
  return [
    ...(status.some((one) => one !== 'RUNNING') ? [NOT_RUNNING] : []),
    ...(status.includes('RUNNING') ? [RUNNING] : []),
  ];
}

/**
 * `column` is one of `values`: an equality for one value, which the list's index checks in its
 * scan (a list of several is checked on each entry the scan reads: an ordered scan takes no
 * list on a column after its first).
 */
function oneOf(column: string, values: readonly string[], type: string): Prisma.Sql {
  return values.length === 1
    ? Prisma.sql`${Prisma.raw(column)} = ${values[0]}::${Prisma.raw(type)}`
    : Prisma.sql`${Prisma.raw(column)} = ANY(${[...values]}::${Prisma.raw(type)}[])`;
}

/**
 * Each filter given, as given: a list is any of its values, so an empty one matches no task
 * (as `teamIds` of a caller in no team), and a workerId is that worker's, "" none's.
 */
function conditions(filter: TaskPageFilter): Prisma.Sql[] {
  const { teamIds, status, type, priority, from, to, workerId, agentId } = filter;
  return [
    ...(teamIds ? [oneOf('"teamId"', teamIds, 'uuid')] : []),
    ...(status ? [oneOf('status', status, '"TaskStatus"')] : []),
    ...(type ? [oneOf('type', type, 'text')] : []),
    ...(priority ? [oneOf('priority', priority, '"TaskPriority"')] : []),
    ...(from ? [Prisma.sql`"createdAt" >= ${from}`] : []),
    ...(to ? [Prisma.sql`"createdAt" < ${to}`] : []),
    ...(workerId !== undefined ? [Prisma.sql`"workerId" = ${workerId}`] : []),
    ...(agentId ? [Prisma.sql`"agentId" = ${agentId}::uuid`] : []),
  ];
}

const where = (part: Prisma.Sql, more: Prisma.Sql[]) =>
  Prisma.sql`WHERE ${Prisma.join([part, ...more], ' AND ')}`;

/** The statement of selectTaskPage (its plan is checked in the tests). */
export function taskPageQuery(
  filter: TaskPageFilter,
  limit: number,
  after: { createdAt: Date; id: string } | undefined,
): Prisma.Sql {
  const matching = conditions(filter);
  if (after)
    matching.push(
      // The first term bounds the index scan; the second is exact.
      Prisma.sql`"createdAt" <= ${after.createdAt}`,
      Prisma.sql`("createdAt" < ${after.createdAt} OR id < ${after.id}::uuid)`,
    );
  const pages = parts(filter.status).map(
    (part) => Prisma.sql`(
      SELECT id, "createdAt" FROM tasks ${where(part, matching)}
      ORDER BY "createdAt" DESC, id DESC LIMIT ${limit})`,
  );
  return Prisma.sql`
    SELECT id FROM (${Prisma.join(pages, ' UNION ALL ')}) page
    ORDER BY "createdAt" DESC, id DESC LIMIT ${limit}`;
}

/** Up to `limit` tasks past `after` (the last row of the page before), newest first. */
export async function selectTaskPage(
  client: Queryable,
  filter: TaskPageFilter,
  limit: number,
  after: { createdAt: Date; id: string } | undefined,
): Promise<Task[]> {
  return client.$queryRaw<Task[]>`
    WITH page AS (${taskPageQuery(filter, limit, after)})
    SELECT ${wholeTaskColumns('t')} FROM page JOIN tasks t ON t.id = page.id
    ORDER BY t."createdAt" DESC, t.id DESC`;
}

export interface TaskCount {
  count: number;
  /** True when `count` is the planner's estimate (past the cap), not counted. */
  isEstimate: boolean;
}

/**
 * How many tasks the filter matches: exactly up to `cap` (each part's scan stops at cap + 1
 * rows of the list's indexes), past it the planner's estimate, never below cap + 1. An exact
 * count of every task (the operator's unfiltered list) read the whole table for each page.
 */
export async function countTasks(
  client: Queryable,
  filter: TaskPageFilter,
  cap: number,
): Promise<TaskCount> {
  const matching = conditions(filter);
  const selects = parts(filter.status).map(
    (part) => Prisma.sql`SELECT 1 FROM tasks ${where(part, matching)}`,
  );
  const counts = selects.map(
    (select) => Prisma.sql`(SELECT count(*) FROM (${select} LIMIT ${cap + 1}) capped)`,
  );
  const [row] = await client.$queryRaw<[{ total: number }]>`
    SELECT (${Prisma.join(counts, ' + ')})::int AS total`;
  if (row.total <= cap) return { count: row.total, isEstimate: false };
  const [plan] = await client.$queryRaw<
    [{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }]
  >`
    EXPLAIN (FORMAT JSON) ${Prisma.join(selects, ' UNION ALL ')}`;
  const estimate = Math.round(plan['QUERY PLAN'][0]!.Plan['Plan Rows']);
  return { count: Math.max(estimate, cap + 1), isEstimate: true };
}
