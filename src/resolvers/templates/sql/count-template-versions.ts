// How many versions each of several templates has recorded (a connection's totalCount). Not
// the version number: templates made before versions were kept start at a later version.
import type { PrismaClient } from '../../../generated/prisma/client.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

export async function countTemplateVersions(
  client: Queryable,
  templateIds: readonly string[],
): Promise<Map<string, number>> {
  const rows = await client.$queryRaw<Array<{ templateId: string; count: number }>>`
    SELECT "templateId"::text AS "templateId", count(*)::int AS "count"
    FROM "template_versions"
    WHERE "templateId" = ANY(${[...templateIds]}::uuid[])
    GROUP BY "templateId"`;
  return new Map(rows.map((row) => [row.templateId, row.count]));
}
