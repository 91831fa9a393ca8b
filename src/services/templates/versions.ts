// Template versions: every create, update and fork records the version it makes,
// with the content, guide and variables of that version; rows are never changed afterwards
// (a trigger refuses it). Renders, plans and diffs can then name any recorded version.
import type { Prisma, Template } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import { notFound } from '../../platform/errors.js';
import { selectTemplateVersionsAt } from './sql/select-template-versions-at.js';
import type { TemplateVersionRow, VersionReaders } from './sql/template-version-row.js';

export type { TemplateVersionRow, VersionReaders } from './sql/template-version-row.js';

type Versioned = Pick<
  Template,
  'version' | 'content' | 'promptSystem' | 'variables' | 'changelog' | 'isPublic'
>;

/** The version row of a template as it now is, made by `userId` (a nested create's data). */
export function versionRecord(
  template: Versioned,
  userId: string | null,
): Prisma.TemplateVersionUncheckedCreateWithoutTemplateInput {
  return {
    version: template.version,
    content: template.content,
    promptSystem: template.promptSystem,
    variables: template.variables,
    changelog: template.changelog,
    isPublic: template.isPublic,
    createdById: userId,
  };
}

/**
 * A recorded version of a template the caller sees (checked before), as `teams` may read it:
 * a version recorded while the template was private only for its team's readers.
 */
export async function requireTemplateVersion(
  templateId: string,
  version: number,
  teams: VersionReaders,
): Promise<TemplateVersionRow> {
  const [row] = await selectTemplateVersionsAt(db(), [templateId], version, teams);
  if (!row) throw notFound('Template version');
  return row;
}

const sameValue = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b)
    ? a.length === b.length && a.every((item, index) => item === b[index])
    : a === b;

/** The fields of an update's data whose value differs from the template's. */
export function changedFields(current: Template, data: Prisma.TemplateUpdateInput): string[] {
  return Object.entries(data)
    .filter(([field, value]) => !sameValue(current[field as keyof Template], value))
    .map(([field]) => field);
}
