// Agents: knowledge agents scoped to nodes of one taxonomy version.
// Immutable after creation: id, taxonomy node ids, taxonomy version, created at.
import { db } from '../../platform/db.js';
import { badUserInput, InvalidIdsError, notFound } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Caller } from '../auth/caller.js';
import { canWrite, requireWrite } from '../auth/permissions.js';
import { agentVisibleTo } from '../auth/visibility.js';
import { findVisibleTaxonomy } from '../taxonomy/lookup.js';
import { parseFeaturesConfig, parseRetrievalConfig } from './agent-config.js';
import { announceChanges } from '../../platform/changes.js';

type Who = Pick<Caller, 'isOperator' | 'roles'>;

/** A new agent joins the lists. */
export interface CreateAgentInput {
  name: string;
  taxonomyVersion: string;
  /** Row ids. */
  taxonomyNodeIds: string[];
  scopeDescription?: string | null;
  retrievalConfig?: unknown;
  featuresConfig?: unknown;
}

export interface UpdateAgentInput {
  name?: string | null;
  scopeDescription?: string | null;
  retrievalConfig?: unknown;
  featuresConfig?: unknown;
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) throw badUserInput('name must be 1-200 characters');
  return trimmed;
}

/** The agent with its team, or NOT_FOUND for an unknown, malformed or hidden one. */
export async function requireVisibleAgent(agentId: string, caller: Who) {
  const agent = await db().agent.findFirst({
    where: { AND: [rowIdWhere(agentId), agentVisibleTo(caller)] },
    select: { id: true, teamId: true },
  });
  if (!agent) throw notFound('Agent');
  return agent;
}

/** The agent, if the caller may change it: NOT_FOUND when hidden, FORBIDDEN when only seen. */
export async function requireWritableAgent(
  agentId: string,
  caller: Pick<Caller, 'isOperator' | 'roles' | 'keyScopes'>,
) {
  const agent = await requireVisibleAgent(agentId, caller);
  requireWrite(caller, agent.teamId, 'Agent', true);
  return agent;
}

/** Into the caller's team, over a taxonomy the caller sees (taxonomy/lookup.ts). */
export async function createAgent(
  input: CreateAgentInput,
  caller: Pick<Caller, 'isOperator' | 'roles' | 'teamId' | 'userId'>,
) {
  const name = validName(input.name);
  const retrievalConfig = parseRetrievalConfig(input.retrievalConfig);
  const featuresConfig = parseFeaturesConfig(input.featuresConfig);
  if (input.taxonomyNodeIds.length === 0) throw badUserInput('taxonomyNodeIds must not be empty');
  const nodeIds = [...new Set(input.taxonomyNodeIds)];
  const taxonomy = await findVisibleTaxonomy(input.taxonomyVersion, caller);
  if (!taxonomy) throw badUserInput(`taxonomyVersion ${input.taxonomyVersion} does not exist`);
  const found = await db().taxonomyNode.findMany({
    where: { id: { in: nodeIds }, taxonomyId: taxonomy.id },
    select: { id: true },
  });
  if (found.length !== nodeIds.length) {
    const known = new Set(found.map((n) => n.id));
    throw new InvalidIdsError(
      `taxonomyNodeIds not in taxonomy ${taxonomy.version}`,
      input.taxonomyNodeIds.filter((id) => !known.has(id)),
      'taxonomyNodeIds',
    );
  }
  const agent = await db().agent.create({
    data: {
      name,
      teamId: caller.teamId,
      ownerId: caller.userId,
      scopeDescription: input.scopeDescription ?? null,
      taxonomyId: taxonomy.id,
      taxonomyVersion: taxonomy.version,
      retrievalConfig: retrievalConfig as Prisma.InputJsonValue,
      featuresConfig: featuresConfig as Prisma.InputJsonValue,
      nodes: { create: nodeIds.map((nodeId, position) => ({ nodeId, position })) },
    },
  });
  await announceChanges({ kind: 'agent.created' });
  return agent;
}

/** Only the fields sent change (a partial update); null clears scopeDescription only. */
function updateData(input: UpdateAgentInput): Prisma.AgentUpdateInput {
  const data: Prisma.AgentUpdateInput = {};
  if (input.name !== undefined) {
    if (input.name === null) throw badUserInput('name cannot be null');
    data.name = validName(input.name);
  }
  if (input.scopeDescription !== undefined) data.scopeDescription = input.scopeDescription;
  if (input.retrievalConfig !== undefined)
    data.retrievalConfig = parseRetrievalConfig(input.retrievalConfig) as Prisma.InputJsonValue;
  if (input.featuresConfig !== undefined)
    data.featuresConfig = parseFeaturesConfig(input.featuresConfig) as Prisma.InputJsonValue;
  if (Object.keys(data).length === 0) throw badUserInput('input must set at least one field');
  return data;
}

export async function updateAgent(
  agentId: string,
  input: UpdateAgentInput,
  caller: Caller,
  pubsub: PubSub,
) {
  const data = updateData(input);
  const { id } = await requireWritableAgent(agentId, caller);
  const agent = await db().agent.update({ where: { id }, data });
  await announceChanges({ kind: 'agents.changed', agentIds: [id] });
  await pubsub.publish('agentUpdated', id, { agentId: id, deleted: false });
  return agent;
}

export async function deleteAgent(agentId: string, caller: Caller, pubsub: PubSub): Promise<void> {
  await requireWritableAgent(agentId, caller);
  // Tasks, history and their events go with it (ON DELETE CASCADE).
  const deleted = await db().agent.deleteMany({ where: rowIdWhere(agentId) });
  if (deleted.count === 0) throw notFound('Agent');
  await announceChanges({ kind: 'agents.changed', agentIds: [rowIdWhere(agentId).id] });
  await pubsub.publish('agentUpdated', agentId, { agentId, deleted: true });
}

/** One id of a bulk call, in the order given. */
export interface BulkResult {
  ok: boolean;
  error: string | null;
}

/**
 * All or nothing: when any id is unknown (or hidden from the caller), or one the caller sees
 * may not be changed by it (FORBIDDEN), nothing changes and the report says which.
 */
async function resolveBulkIds(agentIds: readonly string[], caller: Caller) {
  if (agentIds.length === 0) throw badUserInput('ids must not be empty', { field: 'ids' });
  if (agentIds.length > 1_000) throw badUserInput('at most 1000 ids per call');
  const rowIds = agentIds.map((id) => rowIdWhere(id).id);
  const teams = new Map(
    (
      await db().agent.findMany({
        where: { AND: [{ id: { in: rowIds } }, agentVisibleTo(caller)] },
        select: { id: true, teamId: true },
      })
    ).map((a) => [a.id, a.teamId]),
  );
  const results: BulkResult[] = rowIds.map((id) => {
    const teamId = teams.get(id);
    if (teamId === undefined) return { ok: false, error: 'NOT_FOUND' };
    return canWrite(caller, teamId) ? { ok: true, error: null } : { ok: false, error: 'FORBIDDEN' };
  });
  return { rowIds, results, complete: results.every((r) => r.ok) };
}

export async function bulkUpdateAgents(
  agentIds: readonly string[],
  input: UpdateAgentInput,
  caller: Caller,
  pubsub: PubSub,
) {
  const data = updateData(input);
  const { rowIds, results, complete } = await resolveBulkIds(agentIds, caller);
  if (!complete)
    return {
      applied: false,
      results: results.map((r) => (r.ok ? { ...r, ok: false, error: 'NOT_APPLIED' } : r)),
    };
  await db().$transaction(rowIds.map((id) => db().agent.update({ where: { id }, data })));
  await announceChanges({ kind: 'agents.changed', agentIds: rowIds });
  await Promise.all(
    rowIds.map((id) => pubsub.publish('agentUpdated', id, { agentId: id, deleted: false })),
  );
  return { applied: true, results };
}

export async function bulkDeleteAgents(
  agentIds: readonly string[],
  caller: Caller,
  pubsub: PubSub,
) {
  const { rowIds, results, complete } = await resolveBulkIds(agentIds, caller);
  if (!complete)
    return {
      applied: false,
      results: results.map((r) => (r.ok ? { ...r, ok: false, error: 'NOT_APPLIED' } : r)),
    };
  await db().agent.deleteMany({ where: { id: { in: rowIds } } });
  await announceChanges({ kind: 'agents.changed', agentIds: rowIds });
  await Promise.all(
    rowIds.map((id) => pubsub.publish('agentUpdated', id, { agentId: id, deleted: true })),
  );
  return { applied: true, results };
}

/**
 * A new agent of the caller's team with the same scope and configs; history and tasks stay
 * with the original. The scope is part of the agent seen, whatever its taxonomy's team.
 */
export async function cloneAgent(agentId: string, name: string | null | undefined, caller: Caller) {
  const { id } = await requireVisibleAgent(agentId, caller);
  const source = await db().agent.findUniqueOrThrow({
    where: { id },
    include: { nodes: { orderBy: { position: 'asc' } } },
  });
  const clone = await db().agent.create({
    data: {
      name: name ? validName(name) : `${source.name} (copy)`.slice(0, 200),
      teamId: caller.teamId,
      ownerId: caller.userId,
      scopeDescription: source.scopeDescription,
      taxonomyId: source.taxonomyId,
      taxonomyVersion: source.taxonomyVersion,
      retrievalConfig: source.retrievalConfig as Prisma.InputJsonValue,
      featuresConfig: source.featuresConfig as Prisma.InputJsonValue,
      nodes: { create: source.nodes.map(({ nodeId, position }) => ({ nodeId, position })) },
    },
  });
  await announceChanges({ kind: 'agent.created' });
  return clone;
}

/** The agent now, for the agentUpdated feed; null once it is deleted (the feed ends). */
export function readAgent(agentId: string) {
  return db().agent.findUnique({ where: { id: agentId } });
}

/** Every change of an agent moves its updatedAt: an agent with the same one is not sent again. */
export const agentVersion = (agent: { updatedAt: Date }) => agent.updatedAt.toISOString();
