// Reading the meter: llmCalls, one row per attempt, newest first; llmUsage, sums
// over a time range grouped as asked. A caller reads its teams' calls (the operator all).
import { readDb } from '../../platform/replicas.js';
import type { LlmCallOutcome, LlmService, Prisma } from '../../generated/prisma/client.js';
import { BadInputError } from '../../platform/errors.js';
import { connectionFromRows, newestFirstAfter, pageSize } from '../../platform/pagination.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds } from '../auth/permissions.js';
import { selectUsageRows, type UsageGroup } from './sql/usage-rows.js';

export interface LlmCallFilter {
  service?: LlmService | null;
  outcome?: LlmCallOutcome | null;
  deploymentId?: string | null;
  apiKeyId?: string | null;
  topicId?: string | null;
  workflowId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const MAX_RANGE_DAYS = 366;

function filterWhere(filter: LlmCallFilter | null | undefined): Prisma.LlmCallWhereInput {
  if (!filter) return {};
  return {
    ...(filter.service ? { service: filter.service } : {}),
    ...(filter.outcome ? { outcome: filter.outcome } : {}),
    ...(filter.deploymentId ? { deploymentId: filter.deploymentId } : {}),
    ...(filter.apiKeyId ? { apiKeyId: filter.apiKeyId } : {}),
    ...(filter.topicId ? { topicId: filter.topicId } : {}),
    ...(filter.workflowId ? { workflowId: filter.workflowId } : {}),
    ...(filter.from || filter.to
      ? {
          createdAt: {
            ...(filter.from ? { gte: filter.from } : {}),
            ...(filter.to ? { lt: filter.to } : {}),
          },
        }
      : {}),
  };
}

/** Newest first, keyset-paginated on (createdAt, id). */
export async function listLlmCalls(
  caller: Caller,
  args: { first?: number | null; after?: string | null; filter?: LlmCallFilter | null },
) {
  const limit = pageSize(args.first);
  const teams = readableTeamIds(caller);
  const where: Prisma.LlmCallWhereInput = {
    AND: [
      teams ? { teamId: { in: teams } } : {},
      filterWhere(args.filter),
      newestFirstAfter(args.after) ?? {},
    ],
  };
  const rows = await readDb().llmCall.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    include: { deployment: { select: { id: true, name: true } } },
  });
  return connectionFromRows(rows, limit, args.after, (row) => [
    row.createdAt.toISOString(),
    row.id,
  ]);
}

export async function llmUsage(
  caller: Caller,
  args: { from: Date; to: Date; groupBy: UsageGroup[] },
) {
  if (args.to.getTime() <= args.from.getTime())
    throw new BadInputError('to must be after from', {}, 'to');
  if (args.to.getTime() - args.from.getTime() > MAX_RANGE_DAYS * 86_400_000)
    throw new BadInputError(`from-to must span at most ${MAX_RANGE_DAYS} days`, {}, 'from');
  const groupBy = [...new Set(args.groupBy)];
  const rows = await selectUsageRows(readDb(), args, readableTeamIds(caller), groupBy);
  return rows.map((row) => ({ ...row, groupBy }));
}
