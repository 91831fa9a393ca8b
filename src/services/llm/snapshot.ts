// routingSnapshot (GET /api/metrics/routing?service=): how the router of this
// process ranks a service's candidates for a team now: rank, score, estimated cost of a
// typical call, latency p50 and why a candidate is excluded. Latency is this process's
// window; a deployment it has not called (a worker's WRITE calls, seen from an API
// process) shows the median of its last calls in llm_calls instead.
import type { LlmService } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { selectRecentLatency } from './sql/recent-latency.js';
import type { Caller } from '../auth/caller.js';
import { canRead } from '../auth/permissions.js';
import { notFound } from '../../platform/errors.js';
import { budgetsFor, budgetState } from '../../llm/budget-reservations.js';
import { keyReadable } from '../../llm/key-readable.js';
import type { LlmGateway } from '../../llm/gateway.js';
import { rankCandidates, type Candidate } from '../../llm/ranking.js';

/** A typical call of each service, for the cost estimate (the prompts' sizes and max_tokens). */
export const TYPICAL_TOKENS: Record<LlmService, { inputTokens: number; outputTokens: number }> = {
  PLAN: { inputTokens: 600, outputTokens: 800 },
  WRITE: { inputTokens: 2_000, outputTokens: 1_200 },
};

/** A candidate with the deployment it names: a deleted one too (its id and name), so it says which. */
export interface SnapshotCandidate extends Candidate {
  named: { id: string; name: string } | null;
}

export interface RoutingSnapshot {
  service: LlmService;
  strategy: string;
  implicit: boolean;
  candidates: SnapshotCandidate[];
}

export async function routingSnapshot(
  service: LlmService,
  caller: Caller,
  llm: LlmGateway,
  teamId?: string | null,
): Promise<RoutingSnapshot> {
  const team = teamId ?? caller.teamId;
  if (!canRead(caller, team)) throw notFound('Team');
  const view = await llm.catalog.view(team);
  const route = view.routes.get(service)!;
  await llm.cooldowns.watch(route.deploymentIds);
  const ranked = rankCandidates(route, view.deployments, {
    cooldowns: llm.cooldowns,
    latency: llm.latency,
    tokens: TYPICAL_TOKENS[service],
    describe: true,
    readable: keyReadable(llm.keyring),
  });
  const unknown = ranked.filter((c) => c.latencyP50Ms === null).map((c) => c.deploymentId);
  const recorded = await selectRecentLatency(db(), unknown);
  // The team's budgets and the calling key's: what its calls reserve on.
  const budgetIds = budgetsFor(view.budgets, caller.apiKeyId).map((budget) => budget.id);
  const budgets = await db().llmBudget.findMany({ where: { id: { in: budgetIds } } });
  const remaining = Math.min(...budgets.map((budget) => budgetState(budget).remainingUsd));
  for (const candidate of ranked) {
    candidate.latencyP50Ms ??= recorded.get(candidate.deploymentId) ?? null;
    const cost = candidate.estimatedCostUsd ?? 0;
    // A typical call of the service would not fit what the budgets have left.
    if (!candidate.excludedReason && cost > 0 && cost > remaining)
      candidate.excludedReason = 'BUDGET_EXCEEDED';
  }
  return {
    service,
    strategy: route.strategy,
    implicit: route.implicit,
    candidates: await withNames(ranked, team),
  };
}

/**
 * Each candidate's deployment by id and name; a deleted one's read from its row (kept), the
 * team's or the operator's as the route's may be.
 */
async function withNames(ranked: Candidate[], team: string | null): Promise<SnapshotCandidate[]> {
  const gone = ranked.filter((c) => !c.deployment).map((c) => c.deploymentId);
  const deleted = gone.length
    ? await db().llmDeployment.findMany({
        where: { id: { in: gone }, OR: [{ teamId: team }, { teamId: null }] },
        select: { id: true, name: true },
      })
    : [];
  const names = new Map(deleted.map((row) => [row.id, row]));
  return ranked.map((c) => ({ ...c, named: c.deployment ?? names.get(c.deploymentId) ?? null }));
}
