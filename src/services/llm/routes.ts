// Routes: per service (PLAN, WRITE) and team (or, teamId null, the operator's
// default for every team without one), a strategy over an ordered list of deployments, how
// many attempts a call may make, and whether the local provider answers when none is left.
// A route set for a service replaces the LLM_* choice for it.
import type { LlmRouteStrategy, LlmService } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { BadInputError, InvalidIdsError } from '../../platform/errors.js';
import { announceLlmConfigChanged } from '../../llm/catalog.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds } from '../auth/permissions.js';
import { ownerFor } from './provider-keys.js';

export interface SetLlmRouteInput {
  teamId?: string | null;
  service: LlmService;
  strategy: LlmRouteStrategy;
  /** Row ids, in priority order. */
  deploymentIds: string[];
  maxAttempts?: number | null;
  fallbackToLocal?: boolean | null;
}

export const MAX_ROUTE_DEPLOYMENTS = 10;

function checkShape(input: SetLlmRouteInput): number {
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 5)
    throw new BadInputError('maxAttempts must be from 1 to 5', {}, 'maxAttempts');
  if (input.deploymentIds.length === 0 && !input.fallbackToLocal)
    throw new BadInputError(
      'deploymentIds must name a deployment (or set fallbackToLocal)',
      {},
      'deploymentIds',
    );
  if (input.deploymentIds.length > MAX_ROUTE_DEPLOYMENTS)
    throw new BadInputError(`deploymentIds: at most ${MAX_ROUTE_DEPLOYMENTS}`, {}, 'deploymentIds');
  if (new Set(input.deploymentIds).size !== input.deploymentIds.length)
    throw new BadInputError('deploymentIds must not repeat a deployment', {}, 'deploymentIds');
  return maxAttempts;
}

export async function setLlmRoute(input: SetLlmRouteInput, caller: Caller, pubsub: PubSub) {
  const maxAttempts = checkShape(input);
  const owner = ownerFor(caller, input.teamId);
  // The team's own deployments and the operator's; the operator's route only the operator's.
  const usable = await db().llmDeployment.findMany({
    where: {
      id: { in: input.deploymentIds },
      deletedAt: null,
      OR: owner ? [{ teamId: owner }, { teamId: null }] : [{ teamId: null }],
    },
    select: { id: true },
  });
  const found = new Set(usable.map((row) => row.id));
  const refused = input.deploymentIds.filter((id) => !found.has(id));
  if (refused.length)
    throw new InvalidIdsError(
      'deploymentIds: no such deployment of this team',
      refused,
      'deploymentIds',
    );
  const data = {
    strategy: input.strategy,
    deploymentIds: input.deploymentIds,
    maxAttempts,
    fallbackToLocal: input.fallbackToLocal ?? false,
  };
  const existing = await db().llmRoute.findFirst({
    where: { teamId: owner, service: input.service },
  });
  const route = existing
    ? await db().llmRoute.update({ where: { id: existing.id }, data })
    : await db().llmRoute.create({ data: { ...data, teamId: owner, service: input.service } });
  await announceLlmConfigChanged(pubsub, owner);
  return route;
}

/** The caller's teams' routes and the operator's. */
export function listLlmRoutes(caller: Caller) {
  const teams = readableTeamIds(caller);
  return db().llmRoute.findMany({
    where: teams ? { OR: [{ teamId: { in: teams } }, { teamId: null }] } : {},
    orderBy: [{ service: 'asc' }, { updatedAt: 'desc' }],
  });
}
