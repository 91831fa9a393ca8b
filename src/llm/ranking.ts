// Ranking a route's candidates: PRIORITY keeps the route's order; LOWEST_COST
// ranks by price × estimated tokens, unpriced last; LOWEST_LATENCY by the moving window's
// median time to first token, with a random pick among those within 10 % of the best (so a
// deployment that recovered is tried again). Excluded candidates say why.
import type { LlmRouteStrategy } from '../generated/prisma/enums.js';
import type { DeploymentEntry, KeyEntry, RouteEntry } from './catalog.js';
import type { Cooldowns } from './cooldowns.js';
import type { LatencyWindow } from './latency.js';

export type ExcludedReason =
  | 'DELETED'
  | 'COOLDOWN'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED'
  | 'KEY_REJECTED'
  | 'KEY_UNREADABLE'
  | 'BUDGET_EXCEEDED';

export interface Candidate {
  deploymentId: string;
  deployment: DeploymentEntry | undefined;
  rank: number;
  score: number;
  estimatedCostUsd: number | null;
  latencyP50Ms: number | null;
  excludedReason: ExcludedReason | null;
}

export interface TokenEstimate {
  inputTokens: number;
  /** The call's max_tokens: the worst case a reservation covers. */
  outputTokens: number;
}

/** Characters per token where a count is needed before the provider says (a common rule of thumb). */
export const CHARS_PER_TOKEN = 4;

export const estimateTokens = (text: string) => Math.ceil(text.length / CHARS_PER_TOKEN);

/** Tokens a chat request's framing adds (roles, separators, the reply's start), per request. */
const FRAMING_TOKENS = 16;

/**
 * At most how many input tokens the provider can count for `text`: the byte-level BPE
 * tokenizers of the providers we call (OpenAI's, Anthropic's) never make a token of less than
 * one UTF-8 byte, plus the framing. What a budget reservation covers (a Korean prompt is 3
 * bytes a character, and its tokens far more than characters ÷ 4).
 */
export const worstCaseInputTokens = (text: string) =>
  Buffer.byteLength(text, 'utf8') + FRAMING_TOKENS;

/** USD for the tokens at the deployment's prices; null when it has none (LOCAL costs 0). */
export function costUsd(
  deployment: Pick<DeploymentEntry, 'kind' | 'inputUsdPerMTok' | 'outputUsdPerMTok'>,
  tokens: TokenEstimate,
): number | null {
  if (deployment.kind === 'LOCAL') return 0;
  if (deployment.inputUsdPerMTok === null && deployment.outputUsdPerMTok === null) return null;
  return (
    (tokens.inputTokens * (deployment.inputUsdPerMTok ?? 0) +
      tokens.outputTokens * (deployment.outputUsdPerMTok ?? 0)) /
    1_000_000
  );
}

export function exclusionOf(
  deployment: DeploymentEntry | undefined,
  cooldowns: Pick<Cooldowns, 'until'>,
  now: number,
  readable?: (key: KeyEntry) => boolean,
): ExcludedReason | null {
  if (!deployment) return 'DELETED';
  const key = deployment.key;
  if (key && !deployment.fromEnvironment) {
    if (key.revokedAt) return 'KEY_REVOKED';
    if (key.expiresAt && key.expiresAt.getTime() <= now) return 'KEY_EXPIRED';
    if (key.rejectedAt) return 'KEY_REJECTED';
    if (readable && !readable(key)) return 'KEY_UNREADABLE';
  }
  if (deployment.kind !== 'LOCAL' && cooldowns.until(deployment.id) !== undefined)
    return 'COOLDOWN';
  return null;
}

function scoreOf(strategy: LlmRouteStrategy, candidate: Candidate, index: number): number {
  if (strategy === 'PRIORITY') return index;
  if (strategy === 'LOWEST_COST') return candidate.estimatedCostUsd ?? Number.POSITIVE_INFINITY;
  return candidate.latencyP50Ms ?? 0;
}

/**
 * Every candidate of the route, ranked (usable ones first, by score), each with why it is
 * excluded if it is. The latency p50 is read for LOWEST_LATENCY, or for every strategy with
 * `describe` (the routing snapshot); a routed call under another strategy does not need it.
 */
export function rankCandidates(
  route: RouteEntry,
  deployments: ReadonlyMap<string, DeploymentEntry>,
  context: {
    cooldowns: Pick<Cooldowns, 'until'>;
    latency: LatencyWindow;
    tokens: TokenEstimate;
    describe?: boolean;
    /** Whether this process's keyring opens a key; unset: not checked. */
    readable?: (key: KeyEntry) => boolean;
  },
  now = Date.now(),
): Candidate[] {
  const withLatency = context.describe || route.strategy === 'LOWEST_LATENCY';
  const candidates = route.deploymentIds.map((deploymentId, index) => {
    const deployment = deployments.get(deploymentId);
    const candidate: Candidate = {
      deploymentId,
      deployment,
      rank: 0,
      score: 0,
      estimatedCostUsd: deployment ? costUsd(deployment, context.tokens) : null,
      latencyP50Ms: withLatency ? (context.latency.p50(deploymentId, now) ?? null) : null,
      excludedReason: exclusionOf(deployment, context.cooldowns, now, context.readable),
    };
    candidate.score = scoreOf(route.strategy, candidate, index);
    return candidate;
  });
  // A stable sort: equal scores keep the route's order.
  candidates.sort(
    (a, b) =>
      Number(a.excludedReason !== null) - Number(b.excludedReason !== null) || a.score - b.score,
  );
  candidates.forEach((candidate, index) => (candidate.rank = index + 1));
  return candidates;
}

/** The order to try: LOWEST_LATENCY picks its first at random among those within 10 % of the best. */
export function attemptOrder(strategy: LlmRouteStrategy, ranked: Candidate[]): Candidate[] {
  const usable = ranked.filter((candidate) => candidate.excludedReason === null);
  if (strategy !== 'LOWEST_LATENCY' || usable.length < 2) return usable;
  const best = usable[0]!.score;
  const near = usable.filter((candidate) => candidate.score <= best * 1.1);
  const first = near[Math.floor(Math.random() * near.length)]!;
  return [first, ...usable.filter((candidate) => candidate !== first)];
}
