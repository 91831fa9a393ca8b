// Agents: knowledge agents scoped to nodes of one taxonomy version (seed 000).
// Immutable after creation: id, taxonomy node ids, taxonomy version, created at.
import { db } from '../../platform/db.js';
import { badUserInput, notFound } from '../../platform/errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { PubSub } from '../../platform/pubsub.js';
import { parseFeaturesConfig, parseRetrievalConfig } from './agent-config.js';
import { parseGlobalId, parseGlobalIds } from '../../platform/ids.js';

export interface CreateAgentInput {
  name: string;
  taxonomyVersion: string;
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

/** The agent's row id, or NOT_FOUND for a malformed, foreign-typed or unknown id. */
export async function requireAgentId(globalId: string): Promise<string> {
  const id = parseGlobalId('Agent', globalId);
  if (!id || !(await db().agent.findUnique({ where: { id }, select: { id: true } })))
    throw notFound('Agent');
  return id;
}

export async function createAgent(input: CreateAgentInput, ownerId: string) {
  const name = validName(input.name);
  const retrievalConfig = parseRetrievalConfig(input.retrievalConfig);
  const featuresConfig = parseFeaturesConfig(input.featuresConfig);
  if (input.taxonomyNodeIds.length === 0) throw badUserInput('taxonomyNodeIds must not be empty');
  const nodeIds = [
    ...new Set(parseGlobalIds('TaxonomyNode', input.taxonomyNodeIds, 'taxonomyNodeIds')),
  ];
  const taxonomy = await db().taxonomy.findUnique({
    where: { version: input.taxonomyVersion },
    select: { id: true, version: true },
  });
  if (!taxonomy) throw badUserInput(`taxonomyVersion ${input.taxonomyVersion} does not exist`);
  const found = await db().taxonomyNode.findMany({
    where: { id: { in: nodeIds }, taxonomyId: taxonomy.id },
    select: { id: true },
  });
  if (found.length !== nodeIds.length) {
    const known = new Set(found.map((n) => n.id));
    const bad = input.taxonomyNodeIds.filter(
      (globalId) => !known.has(parseGlobalId('TaxonomyNode', globalId)!),
    );
    throw badUserInput(`taxonomyNodeIds not in taxonomy ${taxonomy.version}: ${bad.join(', ')}`, {
      invalidIds: bad,
    });
  }
  return db().agent.create({
    data: {
      name,
      ownerId,
      scopeDescription: input.scopeDescription ?? null,
      taxonomyId: taxonomy.id,
      taxonomyVersion: taxonomy.version,
      retrievalConfig: retrievalConfig as Prisma.InputJsonValue,
      featuresConfig: featuresConfig as Prisma.InputJsonValue,
      nodes: { create: nodeIds.map((nodeId, position) => ({ nodeId, position })) },
    },
  });
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

export async function updateAgent(globalId: string, input: UpdateAgentInput, pubsub: PubSub) {
  const data = updateData(input);
  const id = await requireAgentId(globalId);
  const agent = await db().agent.update({ where: { id }, data });
  await pubsub.publish('agentUpdated', id, { agentId: id, deleted: false });
  return agent;
}

export async function deleteAgent(globalId: string, pubsub: PubSub): Promise<string> {
  const id = parseGlobalId('Agent', globalId);
  // Tasks, history and their events go with it (ON DELETE CASCADE).
  const deleted = id ? await db().agent.deleteMany({ where: { id } }) : { count: 0 };
  if (deleted.count === 0) throw notFound('Agent');
  await pubsub.publish('agentUpdated', id!, { agentId: id!, deleted: true });
  return globalId;
}

export interface BulkResult {
  id: string;
  ok: boolean;
  error: string | null;
}

/** All or nothing: when any id is unknown, nothing changes and the report says which. */
async function resolveBulkIds(globalIds: readonly string[]) {
  if (globalIds.length === 0) throw badUserInput('ids must not be empty');
  if (globalIds.length > 1_000) throw badUserInput('at most 1000 ids per call');
  const rowIds = globalIds.map((globalId) => parseGlobalId('Agent', globalId));
  const existing = new Set(
    (
      await db().agent.findMany({
        where: { id: { in: rowIds.filter((id): id is string => Boolean(id)) } },
        select: { id: true },
      })
    ).map((a) => a.id),
  );
  const results: BulkResult[] = globalIds.map((globalId, index) => {
    const known = rowIds[index] && existing.has(rowIds[index]!);
    return { id: globalId, ok: Boolean(known), error: known ? null : 'NOT_FOUND' };
  });
  return { rowIds: rowIds as string[], results, complete: results.every((r) => r.ok) };
}

export async function bulkUpdateAgents(
  globalIds: readonly string[],
  input: UpdateAgentInput,
  pubsub: PubSub,
) {
  const data = updateData(input);
  const { rowIds, results, complete } = await resolveBulkIds(globalIds);
  if (!complete)
    return {
      applied: false,
      results: results.map((r) => (r.ok ? { ...r, ok: false, error: 'NOT_APPLIED' } : r)),
    };
  await db().$transaction(rowIds.map((id) => db().agent.update({ where: { id }, data })));
  await Promise.all(
    rowIds.map((id) => pubsub.publish('agentUpdated', id, { agentId: id, deleted: false })),
  );
  return { applied: true, results };
}

export async function bulkDeleteAgents(globalIds: readonly string[], pubsub: PubSub) {
  const { rowIds, results, complete } = await resolveBulkIds(globalIds);
  if (!complete)
    return {
      applied: false,
      results: results.map((r) => (r.ok ? { ...r, ok: false, error: 'NOT_APPLIED' } : r)),
    };
  await db().agent.deleteMany({ where: { id: { in: rowIds } } });
  await Promise.all(
    rowIds.map((id) => pubsub.publish('agentUpdated', id, { agentId: id, deleted: true })),
  );
  return { applied: true, results };
}

/** A new agent with the same scope and configs; history and tasks stay with the original. */
export async function cloneAgent(
  globalId: string,
  name: string | null | undefined,
  ownerId: string,
) {
  const id = await requireAgentId(globalId);
  const source = await db().agent.findUniqueOrThrow({
    where: { id },
    include: { nodes: { orderBy: { position: 'asc' } } },
  });
  return db().agent.create({
    data: {
      name: name ? validName(name) : `${source.name} (copy)`.slice(0, 200),
      ownerId,
      scopeDescription: source.scopeDescription,
      taxonomyId: source.taxonomyId,
      taxonomyVersion: source.taxonomyVersion,
      retrievalConfig: source.retrievalConfig as Prisma.InputJsonValue,
      featuresConfig: source.featuresConfig as Prisma.InputJsonValue,
      nodes: { create: source.nodes.map(({ nodeId, position }) => ({ nodeId, position })) },
    },
  });
}

/** The agent now, for the agentUpdated feed; null once it is deleted (the feed ends). */
export function readAgent(agentId: string) {
  return db().agent.findUnique({ where: { id: agentId } });
}

/** Every change of an agent moves its updatedAt: an agent with the same one is not sent again. */
export const agentVersion = (agent: { updatedAt: Date }) => agent.updatedAt.toISOString();
