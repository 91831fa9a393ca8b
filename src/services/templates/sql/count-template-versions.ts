// How many versions each of several templates has recorded (a connection's totalCount). Not
// the version number: templates made before versions were kept start at a later version.
import type { Queryable } from '../../../platform/db.js';
import { readableVersion, type VersionReaders } from './template-version-row.js';

export async function countTemplateVersions(
  client: Queryable,
  templateIds: readonly string[],
  teams: VersionReaders,
): Promise<Map<string, number>> {
  const rows = await client.$queryRaw<Array<{ templateId: string; count: number }>>`
    SELECT v."templateId"::text AS "templateId", count(*)::int AS "count"
    FROM "template_versions" v JOIN "templates" t ON t."id" = v."templateId"
    WHERE v."templateId" = ANY(${[...templateIds]}::uuid[]) AND ${readableVersion(teams)}
    GROUP BY v."templateId"`;
  return new Map(rows.map((row) => [row.templateId, row.count]));
}
