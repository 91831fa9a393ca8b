// The columns every read of template versions returns: the version with its author's name
// (null once the user is deleted), from template_versions `v` left-joined to users `u`.
import { Prisma } from '../../../generated/prisma/client.js';

export interface TemplateVersionRow {
  templateId: string;
  version: number;
  content: string;
  promptSystem: string | null;
  variables: string[];
  changelog: string | null;
  createdBy: string | null;
  createdAt: Date;
}

/**
 * Whose versions a read returns: the teams the caller reads (a version recorded while its
 * template was private is its team's), or undefined for the operator (every version).
 */
export type VersionReaders = readonly string[] | undefined;

/** The versions `teams` may read, of templates joined as `t` and versions as `alias`. */
export const readableVersion = (teams: VersionReaders, alias = 'v') =>
  teams === undefined
    ? Prisma.sql`TRUE`
    : Prisma.sql`(${Prisma.raw(alias)}."isPublic" OR t."teamId" = ANY(${[...teams]}::uuid[]))`;

export const VERSION_COLUMNS = Prisma.sql`
  v."templateId"::text AS "templateId", v."version", v."content", v."promptSystem",
  coalesce(v."variables", '{}') AS "variables", v."changelog", u."name" AS "createdBy", v."createdAt"`;
