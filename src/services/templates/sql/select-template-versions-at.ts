// One version number of several templates in one statement (Template.versionAt over a list,
// and single lookups for renders, plans and diffs): primary-key probes.
import type { Queryable } from '../../../platform/db.js';
import {
  readableVersion,
  VERSION_COLUMNS,
  type TemplateVersionRow,
  type VersionReaders,
} from './template-version-row.js';

/** The templates among `templateIds` that have `version` readable by `teams`, each with it. */
export function selectTemplateVersionsAt(
  client: Queryable,
  templateIds: readonly string[],
  version: number,
  teams: VersionReaders,
): Promise<TemplateVersionRow[]> {
  return client.$queryRaw<TemplateVersionRow[]>`
    SELECT ${VERSION_COLUMNS}
    FROM "template_versions" v
    JOIN "templates" t ON t."id" = v."templateId"
    LEFT JOIN "users" u ON u."id" = v."createdById"
    WHERE v."templateId" = ANY(${[...templateIds]}::uuid[]) AND v."version" = ${version}
      AND ${readableVersion(teams)}`;
}
