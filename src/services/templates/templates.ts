// Templates marketplace: create, update (a new recorded version with its
// changelog: versions.ts), delete, fork (parent link), and the admin-only official/featured flags.
// Visibility: a public template is seen by everyone, a private one by its team only; a
// template the caller may not see is NOT_FOUND to mutations and null to queries, so its
// existence does not leak. Changing one needs write in its team (FORBIDDEN when only seen).
import { displayTextProblem } from '../../platform/display-text.js';
import { db } from '../../platform/db.js';
import {
  BadInputError,
  badUserInput,
  conflict,
  forbidden,
  notFound,
} from '../../platform/errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TemplateCategory } from '../../generated/prisma/enums.js';
import { emitTemplateVersion, type TemplateWebhookDeps } from './version-webhooks.js';
import type { Caller } from '../auth/caller.js';
import { rowIdWhere } from '../../platform/ids.js';
import { readableTeamIds, requireWrite } from '../auth/permissions.js';
import { isTemplateVisibleTo, templateVisibleTo } from '../auth/visibility.js';
import { lockVisibleTemplate } from './sql/lock-visible-template.js';
import { parseVariables } from './variables.js';
import { changedFields, versionRecord } from './versions.js';
import { announceChanges } from '../../platform/changes.js';

export const TEMPLATE_LIMITS = {
  name: 200,
  description: 5_000,
  content: 100_000,
  promptSystem: 20_000,
  changelog: 5_000,
  tags: 20,
  tagLength: 50,
} as const;

/** Updates of one template queue on its row lock: give them time rather than failing. */
const TRANSACTION_WAIT = { maxWait: 10_000, timeout: 15_000 };

export interface CreateTemplateInput {
  name: string;
  description?: string | null;
  category: TemplateCategory;
  tags?: readonly string[] | null;
  isPublic?: boolean | null;
  promptSystem?: string | null;
  content: string;
}

export interface UpdateTemplateInput {
  name?: string | null;
  description?: string | null;
  tags?: readonly string[] | null;
  isPublic?: boolean | null;
  promptSystem?: string | null;
  content?: string | null;
  changelog?: string | null;
}

export interface TemplateFlags {
  isOfficial?: boolean | null;
  isFeatured?: boolean | null;
}

type Who = Pick<Caller, 'isOperator' | 'roles'>;

/** The unique `where` of a row id restricted to what the caller may see (for node(id)). */
export function visibleTemplateWhere(rowId: string, caller: Who): Prisma.TemplateWhereUniqueInput {
  return { ...rowIdWhere(rowId), AND: [templateVisibleTo(caller)] };
}

/** A template the caller may see, or undefined for a malformed, unknown or hidden id. */
export async function findVisibleTemplate(templateId: string, caller: Who) {
  return (
    (await db().template.findFirst({ where: visibleTemplateWhere(templateId, caller) })) ??
    undefined
  );
}

export async function requireVisibleTemplate(templateId: string, caller: Who) {
  const template = await findVisibleTemplate(templateId, caller);
  if (!template) throw notFound('Template');
  return template;
}

/** `argument`: where the name is in the request (createTemplate's input, forkTemplate's own). */
function validName(name: string, argument = 'input.name'): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > TEMPLATE_LIMITS.name)
    throw badUserInput(`name must be 1-${TEMPLATE_LIMITS.name} characters`, { field: argument });
  // Read by other teams in the marketplace: a name that shows itself, as a team's does.
  const problem = displayTextProblem(trimmed);
  if (problem) throw badUserInput(`name ${problem}`, { field: argument });
  return trimmed;
}

/** Content is kept as written (whitespace is part of a template), but must not be blank. */
function validContent(content: string): string {
  if (!content.trim()) throw badUserInput('content must not be empty', { field: 'input.content' });
  if (content.length > TEMPLATE_LIMITS.content)
    throw badUserInput(`content must be at most ${TEMPLATE_LIMITS.content} characters`, {
      field: 'input.content',
    });
  return content;
}

/** Trimmed; blank becomes null. */
function optionalText(
  value: string | null | undefined,
  field: keyof typeof TEMPLATE_LIMITS,
): string | null {
  const trimmed = value?.trim();
  if (!trimmed) return null;
  const max = TEMPLATE_LIMITS[field];
  if (trimmed.length > max)
    throw badUserInput(`${field} must be at most ${max} characters`, { field: `input.${field}` });
  return trimmed;
}

/** The argument a tags list came in: `tags` of an input, or a filter's own path. */
const argumentOf = (field: string) => (field.includes('.') ? field : `input.${field}`);

/** Lower-case, trimmed, deduplicated; at most 20 tags of 1-50 characters. */
export function normaliseTags(tags: readonly string[], field = 'tags'): string[] {
  const normalised = [...new Set(tags.map((tag) => tag.trim().toLowerCase()))];
  if (normalised.some((tag) => !tag || tag.length > TEMPLATE_LIMITS.tagLength)) {
    throw badUserInput(`${field}: each tag must be 1-${TEMPLATE_LIMITS.tagLength} characters`, {
      field: argumentOf(field),
    });
  }
  if (normalised.length > TEMPLATE_LIMITS.tags)
    throw badUserInput(`${field}: at most ${TEMPLATE_LIMITS.tags} tags`, {
      field: argumentOf(field),
    });
  return normalised;
}

/** Version 1, recorded with the template in one statement. */
export async function createTemplate(
  input: CreateTemplateInput,
  caller: Caller,
  webhooks?: TemplateWebhookDeps,
) {
  const content = validContent(input.content);
  const first = {
    version: 1,
    content,
    promptSystem: optionalText(input.promptSystem, 'promptSystem'),
    variables: parseVariables(content),
    changelog: null,
    // Private unless asked: publishing is a choice.
    isPublic: input.isPublic ?? false,
  };
  const created = await db().template.create({
    data: {
      teamId: caller.teamId,
      ownerId: caller.userId,
      name: validName(input.name),
      description: optionalText(input.description, 'description'),
      category: input.category,
      tags: normaliseTags(input.tags ?? []),
      ...first,
      versions: { create: versionRecord(first, caller.userId) },
    },
  });
  await announceChanges({ kind: 'template.created' });
  await emitTemplateVersion(created, caller, webhooks);
  return created;
}

/** Only the fields sent change; null clears description and promptSystem, and empties tags. */
function updateData(input: UpdateTemplateInput): Prisma.TemplateUpdateInput {
  const data: Prisma.TemplateUpdateInput = {};
  if (input.name !== undefined) {
    if (input.name === null) throw badUserInput('name cannot be null', { field: 'input.name' });
    data.name = validName(input.name);
  }
  if (input.content !== undefined) {
    if (input.content === null)
      throw badUserInput('content cannot be null', { field: 'input.content' });
    data.content = validContent(input.content);
    data.variables = parseVariables(data.content);
  }
  if (input.isPublic !== undefined) {
    if (input.isPublic === null)
      throw badUserInput('isPublic cannot be null', { field: 'input.isPublic' });
    data.isPublic = input.isPublic;
  }
  if (input.description !== undefined)
    data.description = optionalText(input.description, 'description');
  if (input.promptSystem !== undefined)
    data.promptSystem = optionalText(input.promptSystem, 'promptSystem');
  if (input.tags !== undefined) data.tags = normaliseTags(input.tags ?? []);
  if (Object.keys(data).length === 0)
    throw badUserInput('input must change at least one field besides changelog', {
      field: 'input',
    });
  return data;
}

/**
 * Write in its team. Every update is a new recorded version; its changelog describes that version
 * (null when none is given). With `expectedVersion`, a template that has moved on since is
 * CONFLICT (extensions.currentVersion); without it the last writer wins, still versioned.
 */
export async function updateTemplate(
  templateId: string,
  input: UpdateTemplateInput,
  caller: Caller,
  expectedVersion?: number | null,
  webhooks?: TemplateWebhookDeps,
) {
  const template = await requireVisibleTemplate(templateId, caller);
  requireWrite(caller, template.teamId, 'Template', true);
  const data = updateData(input);
  const changelog = optionalText(input.changelog, 'changelog');
  // Under the row lock, concurrent updates are made one after the other: each reads the
  // version the one before it made, so none is lost and two with one expectedVersion conflict.
  const updated = await db().$transaction(async (tx) => {
    if (!(await lockVisibleTemplate(tx, template.id, readableTeamIds(caller))))
      throw notFound('Template');
    const current = await tx.template.findUniqueOrThrow({ where: { id: template.id } });
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw conflict(`Template is at version ${current.version}, not ${expectedVersion}`, {
        currentVersion: current.version,
      });
    }
    if (changedFields(current, data).length === 0)
      throw badUserInput('input changes nothing: every field given equals the current value', {
        field: 'input',
      });
    const updated = await tx.template.update({
      where: { id: template.id },
      data: { ...data, changelog, version: current.version + 1 },
    });
    await tx.templateVersion.create({
      data: { templateId: updated.id, ...versionRecord(updated, caller.userId) },
    });
    return updated;
  }, TRANSACTION_WAIT);
  await announceChanges({ kind: 'template.rewritten', templateId: updated.id });
  await emitTemplateVersion(updated, caller, webhooks);
  return updated;
}

/** Write in its team. Forks keep existing with no parent (ON DELETE SET NULL); ratings go with it. */
export async function deleteTemplate(templateId: string, caller: Caller): Promise<void> {
  const where = rowIdWhere(templateId);
  const template = await db().template.findUnique({
    where,
    select: { isPublic: true, teamId: true },
  });
  if (!template || !isTemplateVisibleTo(template, caller)) throw notFound('Template');
  requireWrite(caller, template.teamId, 'Template', true);
  const { count } = await db().template.deleteMany({ where });
  if (count === 0) throw notFound('Template');
  await announceChanges({ kind: 'template.rewritten', templateId: where.id });
}

/**
 * A copy in the caller's team, starting again at version 1 (recorded) with `parent` pointing
 * at the source and `parentVersion` at the source's version. Forks start private, and never
 * inherit the official/featured flags.
 */
export async function forkTemplate(
  templateId: string,
  name: string | null | undefined,
  caller: Caller,
  webhooks?: TemplateWebhookDeps,
) {
  const source = await requireVisibleTemplate(templateId, caller);
  const first = {
    version: 1,
    content: source.content,
    promptSystem: source.promptSystem,
    variables: source.variables,
    changelog: `Forked from version ${source.version}`,
    isPublic: false,
  };
  const fork = await db().template.create({
    data: {
      teamId: caller.teamId,
      ownerId: caller.userId,
      parentId: source.id,
      parentVersion: source.version,
      name:
        name != null
          ? validName(name, 'name')
          : `${source.name} (fork)`.slice(0, TEMPLATE_LIMITS.name),
      description: source.description,
      category: source.category,
      tags: source.tags,
      ...first,
      versions: { create: versionRecord(first, caller.userId) },
    },
  });
  await announceChanges({ kind: 'template.created' });
  await emitTemplateVersion(fork, caller, webhooks);
  return fork;
}

/** The operator only (the flags are marketplace-wide): curation flags, not a new version. */
export async function setTemplateFlags(
  templateId: string,
  flags: TemplateFlags,
  caller: Pick<Caller, 'isOperator'>,
): Promise<string> {
  if (!caller.isOperator) throw forbidden('Only the operator sets official and featured');
  const data: Prisma.TemplateUpdateManyMutationInput = {};
  if (flags.isOfficial != null) data.isOfficial = flags.isOfficial;
  if (flags.isFeatured != null) data.isFeatured = flags.isFeatured;
  if (Object.keys(data).length === 0)
    throw new BadInputError('set isOfficial, isFeatured or both', {}, 'isOfficial');
  const where = rowIdWhere(templateId);
  const { count } = await db().template.updateMany({ where, data });
  if (count === 0) throw notFound('Template');
  await announceChanges({ kind: 'template.figures-changed', templateId: where.id });
  return where.id;
}
