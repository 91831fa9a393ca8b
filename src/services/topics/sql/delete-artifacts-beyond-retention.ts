// The artifacts of each topic past its newest `keep` (on createdAt, id: Topic.artifacts' order),
// deleted with their files (ON DELETE CASCADE). Only topics with more than `keep` are ranked.
import type { Queryable } from '../../../platform/db.js';

export async function deleteArtifactsBeyondRetention(
  client: Queryable,
  keep: number,
): Promise<number> {
  return client.$executeRaw`
    WITH crowded AS (
      SELECT "topicId" FROM artifacts GROUP BY "topicId" HAVING count(*) > ${keep}
    ), ranked AS (
      SELECT a.id, row_number() OVER (
        PARTITION BY a."topicId" ORDER BY a."createdAt" DESC, a.id DESC) AS rank
      FROM artifacts a JOIN crowded c ON c."topicId" = a."topicId"
    )
    DELETE FROM artifacts a USING ranked r WHERE a.id = r.id AND r.rank > ${keep}`;
}
