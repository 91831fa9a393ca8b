// Using a template: substitute the caller's values into the
// content (of the current version, or of a pinned one), then count the use. A render that
// fails (missing or invalid values, unknown version) is not a use.
import { db } from '../../platform/db.js';
import { BadInputError, badUserInput, notFound } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { incrementTemplateUsage } from './sql/increment-template-usage.js';
import { substituteVariables } from './variables.js';
import { readableTeamIds } from '../auth/permissions.js';
import { requireVisibleTemplate } from './templates.js';
import { requireTemplateVersion } from './versions.js';
import { announceChanges } from '../../platform/changes.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface RenderedTemplate {
  content: string;
  templateId: string;
  /** The version rendered. */
  version: number;
}

/**
 * Unknown extra variables are ignored; every placeholder needs a string, number or boolean.
 * `version`: a recorded version to render (NOT_FOUND when there is none); default the current.
 */
export async function renderTemplate(
  templateId: string,
  variables: unknown,
  caller: Caller,
  version?: number | null,
): Promise<RenderedTemplate> {
  if (!isPlainObject(variables))
    throw badUserInput('variables must be a JSON object of name → value', { field: 'variables' });
  const template = await requireVisibleTemplate(templateId, caller);
  const source =
    version == null
      ? template
      : await requireTemplateVersion(template.id, version, readableTeamIds(caller));
  const { content, missing, invalid } = substituteVariables(source.content, variables);
  if (missing.length)
    throw new BadInputError(
      `missing variables: ${missing.join(', ')}`,
      { missingVariables: missing },
      'variables',
    );
  if (invalid.length) {
    throw badUserInput(`variables must be strings, numbers or booleans: ${invalid.join(', ')}`, {
      invalidVariables: invalid,
    });
  }
  if (!(await incrementTemplateUsage(db(), template.id))) throw notFound('Template');
  await announceChanges({ kind: 'template.figures-changed', templateId: template.id });
  return { content, templateId: template.id, version: source.version };
}
