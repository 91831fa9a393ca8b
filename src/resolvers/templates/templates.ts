// Templates marketplace (seed 002, Phase 8): create, update (bumps the version, records the
// changelog), delete, fork (parent link), and the admin-only official/featured flags.
// Visibility: a public template is seen by everyone, a private one by its owner only; a
// template the caller may not see is NOT_FOUND to mutations and null to queries, so its
// existence does not leak.
import { db } from '../../platform/db.js';
import { badUserInput, forbidden, notFound } from '../../platform/errors.js';
import type { Prisma, Template } from '../../generated/prisma/client.js';
import type { TemplateCategory } from '../../generated/prisma/enums.js';
import type { Caller } from '../auth/caller.js';
import { parseGlobalId, rowIdWhere } from '../../platform/ids.js';
import { isTemplateVisibleTo, templateVisibleTo } from '../auth/visibility.js';
import { parseVariables } from './variables.js';

export const TEMPLATE_LIMITS = {
  name: 200,
  description: 5_000,
  content: 100_000,
  promptSystem: 20_000,
  changelog: 5_000,
  tags: 20,
  tagLength: 50,
} as const;

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

/** The unique `where` of a row id restricted to what the caller may see (for node(id)). */
export function visibleTemplateWhere(
  rowId: string,
  caller: Pick<Caller, 'userId'>,
): Prisma.TemplateWhereUniqueInput {
  return { ...rowIdWhere(rowId), ...templateVisibleTo(caller) };
}

/** A template the caller may see, or undefined for a malformed, unknown or hidden id. */
export async function findVisibleTemplate(globalId: string, caller: Pick<Caller, 'userId'>) {
  const id = parseGlobalId('Template', globalId);
  return (
    (id && (await db().template.findFirst({ where: { id, ...templateVisibleTo(caller) } }))) ||
    undefined
  );
}

export async function requireVisibleTemplate(globalId: string, caller: Pick<Caller, 'userId'>) {
  const template = await findVisibleTemplate(globalId, caller);
  if (!template) throw notFound('Template');
  return template;
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > TEMPLATE_LIMITS.name)
    throw badUserInput(`name must be 1-${TEMPLATE_LIMITS.name} characters`);
  return trimmed;
}

/** Content is kept as written (whitespace is part of a template), but must not be blank. */
function validContent(content: string): string {
  if (!content.trim()) throw badUserInput('content must not be empty');
  if (content.length > TEMPLATE_LIMITS.content)
    throw badUserInput(`content must be at most ${TEMPLATE_LIMITS.content} characters`);
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
  if (trimmed.length > max) throw badUserInput(`${field} must be at most ${max} characters`);
  return trimmed;
}

/** Lower-case, trimmed, deduplicated; at most 20 tags of 1-50 characters. */
export function normaliseTags(tags: readonly string[], field = 'tags'): string[] {
  const normalised = [...new Set(tags.map((tag) => tag.trim().toLowerCase()))];
  if (normalised.some((tag) => !tag || tag.length > TEMPLATE_LIMITS.tagLength)) {
    throw badUserInput(`${field}: each tag must be 1-${TEMPLATE_LIMITS.tagLength} characters`);
  }
  if (normalised.length > TEMPLATE_LIMITS.tags)
    throw badUserInput(`${field}: at most ${TEMPLATE_LIMITS.tags} tags`);
  return normalised;
}

export async function createTemplate(input: CreateTemplateInput, caller: Caller) {
  const content = validContent(input.content);
  return db().template.create({
    data: {
      ownerId: caller.userId,
      name: validName(input.name),
      description: optionalText(input.description, 'description'),
      category: input.category,
      tags: normaliseTags(input.tags ?? []),
      // Private unless asked: publishing is a choice.
      isPublic: input.isPublic ?? false,
      promptSystem: optionalText(input.promptSystem, 'promptSystem'),
      content,
      variables: parseVariables(content),
    },
  });
}

/** Only the fields sent change; null clears description and promptSystem, and empties tags. */
function updateData(input: UpdateTemplateInput): Prisma.TemplateUpdateInput {
  const data: Prisma.TemplateUpdateInput = {};
  if (input.name !== undefined) {
    if (input.name === null) throw badUserInput('name cannot be null');
    data.name = validName(input.name);
  }
  if (input.content !== undefined) {
    if (input.content === null) throw badUserInput('content cannot be null');
    data.content = validContent(input.content);
    data.variables = parseVariables(data.content);
  }
  if (input.isPublic !== undefined) {
    if (input.isPublic === null) throw badUserInput('isPublic cannot be null');
    data.isPublic = input.isPublic;
  }
  if (input.description !== undefined)
    data.description = optionalText(input.description, 'description');
  if (input.promptSystem !== undefined)
    data.promptSystem = optionalText(input.promptSystem, 'promptSystem');
  if (input.tags !== undefined) data.tags = normaliseTags(input.tags ?? []);
  if (Object.keys(data).length === 0)
    throw badUserInput('input must change at least one field besides changelog');
  return data;
}

/** Owner only. Every update is a new version; its changelog describes that version (null when none is given). */
export async function updateTemplate(globalId: string, input: UpdateTemplateInput, caller: Caller) {
  const template = await requireVisibleTemplate(globalId, caller);
  if (template.ownerId !== caller.userId)
    throw forbidden('Only the owner may update this template');
  const data = updateData(input);
  // increment in SQL: two concurrent updates make two versions.
  return db().template.update({
    where: { id: template.id },
    data: {
      ...data,
      changelog: optionalText(input.changelog, 'changelog'),
      version: { increment: 1 },
    },
  });
}

/** Owner or admin. Forks keep existing with no parent (ON DELETE SET NULL); ratings go with it. */
export async function deleteTemplate(globalId: string, caller: Caller): Promise<string> {
  const id = parseGlobalId('Template', globalId);
  const admin = caller.scopes.has('ADMIN');
  const template = id
    ? await db().template.findUnique({ where: { id }, select: { isPublic: true, ownerId: true } })
    : null;
  if (!template || (!admin && !isTemplateVisibleTo(template, caller))) throw notFound('Template');
  if (!admin && template.ownerId !== caller.userId)
    throw forbidden('Only the owner or an admin may delete this template');
  const { count } = await db().template.deleteMany({ where: { id: id! } });
  if (count === 0) throw notFound('Template');
  return globalId;
}

/**
 * A copy owned by the caller, starting again at version 1 with `parent` pointing at the
 * source. Forks start private, and never inherit the official/featured flags.
 */
export async function forkTemplate(
  globalId: string,
  name: string | null | undefined,
  caller: Caller,
) {
  const source = await requireVisibleTemplate(globalId, caller);
  return db().template.create({
    data: {
      ownerId: caller.userId,
      parentId: source.id,
      name: name != null ? validName(name) : `${source.name} (fork)`.slice(0, TEMPLATE_LIMITS.name),
      description: source.description,
      category: source.category,
      tags: source.tags,
      isPublic: false,
      promptSystem: source.promptSystem,
      content: source.content,
      variables: source.variables,
      version: 1,
      changelog: `Forked from version ${source.version}`,
    },
  });
}

/** ADMIN only (checked by the schema's auth scope): curation flags, not a new version. */
export async function setTemplateFlags(globalId: string, flags: TemplateFlags): Promise<string> {
  const data: Prisma.TemplateUpdateManyMutationInput = {};
  if (flags.isOfficial != null) data.isOfficial = flags.isOfficial;
  if (flags.isFeatured != null) data.isFeatured = flags.isFeatured;
  if (Object.keys(data).length === 0) throw badUserInput('set isOfficial, isFeatured or both');
  const id = parseGlobalId('Template', globalId);
  const { count } = id ? await db().template.updateMany({ where: { id }, data }) : { count: 0 };
  if (count === 0) throw notFound('Template');
  return id!;
}
