// A topic's artifacts, one per generation: listed newest first, and trimmed to the newest
// ARTIFACT_RETENTION_COUNT of each topic by the workers' periodic clean-up.
import type { Prisma } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import {
  connectionFromRows,
  newestFirstAfter,
  newestFirstCursor,
  pageSize,
} from '../../platform/pagination.js';
import { deleteArtifactsBeyondRetention } from './sql/delete-artifacts-beyond-retention.js';

/**
 * The artifacts of a topic the caller already sees, newest first, keyset-paginated on
 * (createdAt, id) behind artifacts(topicId, createdAt desc, id desc).
 */
export async function listTopicArtifacts(
  topicId: string,
  args: { first?: number | null; after?: string | null },
  query: { include?: Prisma.ArtifactInclude; select?: Prisma.ArtifactSelect } = {},
) {
  const limit = pageSize(args.first);
  const after = newestFirstAfter(args.after);
  const where: Prisma.ArtifactWhereInput = { topicId };
  const [rows, totalCount] = await Promise.all([
    db().artifact.findMany({
      ...query,
      where: after ? { AND: [where, after] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().artifact.count({ where }),
  ]);
  return {
    ...connectionFromRows(rows, limit, args.after, newestFirstCursor),
    totalCount,
  };
}

/** Keeps the newest `keep` artifacts of every topic (0: all); the number deleted. */
export async function trimArtifactHistory(keep: number): Promise<number> {
  if (keep <= 0) return 0;
  return deleteArtifactsBeyondRetention(db(), keep);
}
