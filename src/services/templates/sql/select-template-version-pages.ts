// One page of versions for each of several templates in one statement: a LATERAL subquery per
// template walks the primary key (templateId, version) backwards and stops at the limit.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import {
  readableVersion,
  VERSION_COLUMNS,
  type TemplateVersionRow,
  type VersionReaders,
} from './template-version-row.js';

/** Newest first, below version `before` when given; at most `limit` per template; as `teams` read. */
export function selectTemplateVersionPages(
  client: Queryable,
  templateIds: readonly string[],
  before: number | undefined,
  limit: number,
  teams: VersionReaders,
): Promise<TemplateVersionRow[]> {
  const below = before === undefined ? Prisma.empty : Prisma.sql`AND x."version" < ${before}`;
  return client.$queryRaw<TemplateVersionRow[]>`
    SELECT ${VERSION_COLUMNS}
    FROM "templates" t
    CROSS JOIN LATERAL (
      SELECT x.* FROM "template_versions" x
      WHERE x."templateId" = t.id ${below} AND ${readableVersion(teams, 'x')}
      ORDER BY x."version" DESC
      LIMIT ${limit}
    ) AS v
    LEFT JOIN "users" u ON u."id" = v."createdById"
    WHERE t."id" = ANY(${[...templateIds]}::uuid[])
    ORDER BY v."templateId", v."version" DESC`;
}
