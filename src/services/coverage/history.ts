// Coverage history: newest first with keyset pagination, trends over a window, and the
// retention cleanup (90 days by default).
import { readDb } from '../../platform/replicas.js';
import { db } from '../../platform/db.js';
import { badUserInput } from '../../platform/errors.js';
import {
  connectionFromRows,
  forwardOnly,
  newestFirstAfterKey,
  pageSize,
} from '../../platform/pagination.js';
import { announceChanges } from '../../platform/changes.js';
import type { Prisma } from '../../generated/prisma/client.js';

/** Which of an agent's entries its reader is shown: `coverageHistoryCountedFor` (docs/teams.md). */
type Counted = Prisma.CoverageHistoryWhereInput;

/** Reads that must agree (a page and its count) see one snapshot: one transaction. */
const SNAPSHOT = { isolationLevel: 'RepeatableRead' } as const;

export interface HistoryArgs {
  from?: Date | null;
  to?: Date | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export async function coverageHistory(agentId: string, args: HistoryArgs, counted: Counted) {
  if (args.from && args.to && args.from > args.to)
    throw badUserInput('from must not be after to', { field: 'from' });
  forwardOnly(args);
  const limit = pageSize(args.first);
  // Newest first on (timestamp, id): the cursor's date is the timestamp.
  const cursor = newestFirstAfterKey(args.after);
  const window = {
    agentId,
    timestamp: { ...(args.from ? { gte: args.from } : {}), ...(args.to ? { lte: args.to } : {}) },
    ...counted,
  };
  const [rows, totalCount] = await readDb().$transaction(
    [
      readDb().coverageHistory.findMany({
        where: cursor
          ? {
              ...window,
              OR: [
                { timestamp: { lt: cursor.createdAt } },
                { timestamp: cursor.createdAt, id: { lt: cursor.id } },
              ],
            }
          : window,
        orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      }),
      readDb().coverageHistory.count({ where: window }),
    ],
    SNAPSHOT,
  );
  return {
    ...connectionFromRows(rows, limit, args.after, (row) => [row.timestamp.toISOString(), row.id]),
    totalCount,
  };
}

export type TrendPeriod = 'WEEK' | 'MONTH';
const PERIOD_DAYS: Record<TrendPeriod, number> = { WEEK: 7, MONTH: 30 };

/** First and last overall coverage inside the window ending now, and the change between them. */
export async function coverageTrend(
  agentId: string,
  period: TrendPeriod,
  counted: Counted,
  now = new Date(),
) {
  const since = new Date(now.getTime() - PERIOD_DAYS[period] * 24 * 3600 * 1000);
  const where = { agentId, timestamp: { gte: since, lte: now }, ...counted };
  const [first, last, entries] = await readDb().$transaction(
    [
      readDb().coverageHistory.findFirst({
        where,
        orderBy: [{ timestamp: 'asc' }, { id: 'asc' }],
        select: { overallCoverage: true },
      }),
      readDb().coverageHistory.findFirst({
        where,
        orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
        select: { overallCoverage: true },
      }),
      readDb().coverageHistory.count({ where }),
    ],
    SNAPSHOT,
  );
  const start = first?.overallCoverage ?? null;
  const end = last?.overallCoverage ?? null;
  return {
    period,
    start,
    end,
    change: start === null || end === null ? null : Math.round((end - start) * 100) / 100,
    entries,
  };
}

export async function deleteExpiredHistory(
  retentionDays: number,
  now = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 3600 * 1000);
  const { count } = await db().coverageHistory.deleteMany({ where: { timestamp: { lt: cutoff } } });
  // A count, not the agents: every agent's history (its totalCount too) may have changed.
  if (count) await announceChanges({ kind: 'coverage.history-expired' });
  return count;
}
