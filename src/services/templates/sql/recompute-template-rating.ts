// ratingAverage and ratingCount recomputed from the ratings table in one statement, run
// under the template's row lock (lock-visible-template.ts), so they always equal the ratings.
import type { Queryable } from '../../../platform/db.js';

export function recomputeTemplateRating(client: Queryable, templateId: string): Promise<number> {
  return client.$executeRaw`
    UPDATE "templates" AS t
    SET "ratingAverage" = s.average, "ratingCount" = s.count
    FROM (
      SELECT avg(r."stars")::float8 AS average, count(*)::int AS count
      FROM "template_ratings" r
      WHERE r."templateId" = ${templateId}::uuid
    ) AS s
    WHERE t."id" = ${templateId}::uuid`;
}
