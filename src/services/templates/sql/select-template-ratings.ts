// One page of ratings for each of several templates in one statement: a LATERAL subquery
// per template walks template_ratings_templateId_createdAt_idx and stops at the limit, so a
// popular template's other ratings are never read. (Prisma's nested `take` over several
// parents reads every related row and slices in memory, which is why this is SQL.)
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';

export interface TemplateRatingRow {
  templateId: string;
  userId: string;
  stars: number;
  review: string | null;
  createdAt: Date;
}

/** Newest first (createdAt, then userId), strictly after `cursor` when given; at most `limit` per template. */
export function selectTemplateRatings(
  client: Queryable,
  templateIds: readonly string[],
  cursor: { createdAt: Date; userId: string } | undefined,
  limit: number,
): Promise<TemplateRatingRow[]> {
  const after = cursor
    ? Prisma.sql`AND (x."createdAt", x."userId") < (${cursor.createdAt}::timestamptz, ${cursor.userId}::uuid)`
    : Prisma.empty;
  return client.$queryRaw<TemplateRatingRow[]>`
    SELECT r."templateId"::text AS "templateId", r."userId"::text AS "userId", r."stars", r."review", r."createdAt"
    FROM unnest(${[...templateIds]}::uuid[]) AS t(id)
    CROSS JOIN LATERAL (
      SELECT x."templateId", x."userId", x."stars", x."review", x."createdAt"
      FROM "template_ratings" x
      WHERE x."templateId" = t.id ${after}
      ORDER BY x."createdAt" DESC, x."userId" DESC
      LIMIT ${limit}
    ) AS r`;
}
