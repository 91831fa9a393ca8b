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

export const VERSION_COLUMNS = Prisma.sql`
  v."templateId"::text AS "templateId", v."version", v."content", v."promptSystem",
  coalesce(v."variables", '{}') AS "variables", v."changelog", u."name" AS "createdBy", v."createdAt"`;
