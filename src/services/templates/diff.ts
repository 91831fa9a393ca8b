// templateDiff: what changed between two recorded versions of a template, as a
// unified diff made by jsdiff (`diff`), with the variables added and removed and the
// changelogs of the versions in between. A reverse diff (fromVersion > toVersion) is allowed:
// it shows how to go back, and lists the changelogs of the versions it undoes, newest first.
import type * as JsDiff from 'diff';
import { db } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import { requireVisibleTemplate } from './templates.js';
import { readableTeamIds } from '../auth/permissions.js';
import {
  requireTemplateVersion,
  type TemplateVersionRow,
  type VersionReaders,
} from './versions.js';

export interface TemplateDiff {
  unified: string;
  variablesAdded: string[];
  variablesRemoved: string[];
  changelog: string[];
}

// jsdiff's line diff costs time in proportion to lines × edits; past this many line edits it
// stops, and the text is shown replaced whole (still a correct patch, just not the smallest).
const MAX_EDIT_LENGTH = 1_000;

/** One file section of the patch: `name` as it was in `from` and is in `to`. */
function filePatch(
  { createTwoFilesPatch, formatPatch, structuredPatch }: typeof JsDiff,
  name: string,
  before: string,
  after: string,
  from: number,
  to: number,
) {
  const headers = [`version ${from}`, `version ${to}`] as const;
  const patch = createTwoFilesPatch(name, name, before, after, ...headers, {
    maxEditLength: MAX_EDIT_LENGTH,
  });
  if (patch !== undefined) return patch;
  // Removing every line and adding every line are each a trivial diff; one hunk holds both.
  const removal = structuredPatch(name, name, before, '', ...headers);
  const [removed] = removal.hunks;
  const [added] = structuredPatch(name, name, '', after, ...headers).hunks;
  const hunk = {
    oldStart: removed?.oldStart ?? 0,
    oldLines: removed?.oldLines ?? 0,
    newStart: added?.newStart ?? 0,
    newLines: added?.newLines ?? 0,
    lines: [...(removed?.lines ?? []), ...(added?.lines ?? [])],
  };
  return formatPatch({ ...removal, hunks: [hunk] });
}

/**
 * The non-empty changelogs of the versions after `from` up to `to`, in the order applied: of
 * the versions recorded while the template was public, for a reader outside its team.
 */
async function changelogsBetween(
  template: { id: string; teamId: string },
  from: number,
  to: number,
  teams: VersionReaders,
) {
  const outsider = teams !== undefined && !teams.includes(template.teamId);
  const rows = await db().templateVersion.findMany({
    where: {
      templateId: template.id,
      version: { gt: Math.min(from, to), lte: Math.max(from, to) },
      ...(outsider ? { isPublic: true } : {}),
    },
    select: { changelog: true },
    orderBy: { version: from <= to ? 'asc' : 'desc' },
  });
  return rows.flatMap((row) => (row.changelog?.trim() ? [row.changelog] : []));
}

// jsdiff loads with the first diff asked for, not at start-up (bench/README.md, "startup").
async function unifiedDiff(from: TemplateVersionRow, to: TemplateVersionRow): Promise<string> {
  const jsdiff = await import('diff');
  const sections = [
    filePatch(jsdiff, 'content', from.content, to.content, from.version, to.version),
  ];
  const [guideBefore, guideAfter] = [from.promptSystem ?? '', to.promptSystem ?? ''];
  if (guideBefore !== guideAfter)
    sections.push(
      filePatch(jsdiff, 'promptSystem', guideBefore, guideAfter, from.version, to.version),
    );
  return sections.join('');
}

/** NOT_FOUND for a template the caller may not see and for a version it never recorded. */
export async function diffTemplateVersions(
  templateId: string,
  fromVersion: number,
  toVersion: number,
  caller: Caller,
): Promise<TemplateDiff> {
  const template = await requireVisibleTemplate(templateId, caller);
  const teams = readableTeamIds(caller);
  const [from, to, changelog] = await Promise.all([
    requireTemplateVersion(template.id, fromVersion, teams),
    requireTemplateVersion(template.id, toVersion, teams),
    changelogsBetween(template, fromVersion, toVersion, teams),
  ]);
  return {
    unified: await unifiedDiff(from, to),
    variablesAdded: to.variables.filter((name) => !from.variables.includes(name)),
    variablesRemoved: from.variables.filter((name) => !to.variables.includes(name)),
    changelog,
  };
}
