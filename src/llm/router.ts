// The LLM router: every plan and report section goes through one loop, ours (the
// SDKs' retries are off). It takes the route of the call's team (or the operator's, or the
// `env` deployment), ranks its candidates, and tries them in order, at most maxAttempts:
// 408, 409, 429, 5xx, network errors, a stream cut before its end and a provider silent past
// the attempt timeout go to the next candidate and cool the deployment down in every process;
// 401/403 mark its key rejected; 400 fails at once. A priced call reserves its worst case on the
// budgets first; a stream that broke after text tells the caller to start over (onRestart)
// before the next one.
import type { LlmService } from '../generated/prisma/enums.js';
import { VaultError } from '../platform/vault.js';
import {
  LocalProviderChosen,
  ProviderError,
  type ChatClient,
  type ChatRequest,
  type LlmCallScope,
} from '../reports/writers/types.js';
import { PROVIDERS } from './providers/index.js';
import { Attempt, clientFor, type AttemptDeps, type AttemptResult } from './attempt.js';
import { budgetExceededError, budgetsFor, reserve, settle } from './budget-reservations.js';
import type { Catalog, DeploymentEntry, TeamView } from './catalog.js';
import type { Cooldowns } from './cooldowns.js';
import { keyReadable } from './key-readable.js';
import { LocalDeploymentChosen, localChosen } from './local-call.js';
import { markKeyRejected } from './key-rejection.js';
import type { Reserved } from './sql/reserve-budget.js';
import {
  attemptOrder,
  costUsd,
  estimateTokens,
  rankCandidates,
  worstCaseInputTokens,
} from './ranking.js';
import type { PubSub } from '../platform/pubsub.js';

export interface RouterDeps extends AttemptDeps {
  catalog: Catalog;
  cooldowns: Cooldowns;
  pubsub: PubSub;
}

interface LoopState {
  attempts: number;
  budgetRefused: boolean;
  lastError: unknown;
  /** Text of a failed attempt reached the caller: the next one starts over. */
  dirty: boolean;
  /** Secrets (fingerprints) a provider rejected during this call: its later candidates skip them. */
  rejected: Set<string>;
}

/** What a failed attempt means for the loop: go on to the next candidate, or stop with this error. */
async function afterFailure(
  deps: RouterDeps,
  deployment: DeploymentEntry,
  result: AttemptResult,
): Promise<'next' | 'stop'> {
  switch (result.outcome) {
    case 'TIMEOUT':
      // The caller's deadline ends the call; the provider's own silence is a dead deployment.
      if (!result.silent) return 'stop';
      deps.cooldowns.cool(deployment.id, undefined);
      return 'next';
    case 'ABORTED':
    case 'BAD_REQUEST':
      return 'stop';
    case 'REJECTED':
      if (deployment.key && !deployment.fromEnvironment)
        await markKeyRejected(deployment.key, result.status, deps.pubsub);
      return 'next';
    default:
      deps.cooldowns.cool(deployment.id, result.retryAfterMs);
      return 'next';
  }
}

/** The call's route, its candidates ranked, and the budgets that apply to it. */
function planCall(
  deps: RouterDeps,
  service: LlmService,
  request: ChatRequest,
  scope: LlmCallScope,
  view: TeamView,
) {
  const route = view.routes.get(service)!;
  const prompt = request.system + request.user;
  const tokens = { inputTokens: estimateTokens(prompt), outputTokens: request.maxTokens };
  const worstCase = { inputTokens: worstCaseInputTokens(prompt), outputTokens: request.maxTokens };
  const ranked = rankCandidates(route, view.deployments, {
    cooldowns: deps.cooldowns,
    latency: deps.latency,
    tokens,
    readable: keyReadable(deps.keyring),
  });
  const budgets = budgetsFor(view.budgets, scope.apiKeyId).map((budget) => budget.id);
  return { scope, route, tokens, worstCase, ranked, budgets };
}

type CallPlan = ReturnType<typeof planCall>;

/**
 * Nothing answered: the local provider, the budget's refusal, or the last error. None tried: a
 * retryable refusal, with when the first cooldown among the route's deployments ends (a
 * cooldown passes: a caller that retries then tries them again).
 */
async function giveUp(
  deps: RouterDeps,
  service: LlmService,
  call: CallPlan,
  state: LoopState,
  request: ChatRequest,
): Promise<never> {
  if (state.dirty) request.onRestart?.();
  if (call.route.fallbackToLocal)
    throw new LocalProviderChosen(true, 'no LLM deployment of the route answered');
  if (state.budgetRefused && state.attempts === 0) throw await budgetExceededError(call.budgets);
  if (state.lastError) throw state.lastError;
  const reasons = call.ranked.map((c) => c.excludedReason ?? 'untried').join(', ');
  const cooldownEnds = call.ranked
    .filter((candidate) => candidate.excludedReason === 'COOLDOWN')
    .map((candidate) => deps.cooldowns.until(candidate.deploymentId) ?? Date.now());
  const cooldownEndsInMs = cooldownEnds.length
    ? Math.max(0, Math.min(...cooldownEnds) - Date.now())
    : undefined;
  const passes =
    cooldownEndsInMs === undefined
      ? ''
      : `; the first cooldown ends in ${Math.ceil(cooldownEndsInMs / 1000)} s`;
  throw new ProviderError(
    `no deployment of the ${service} route is available (${reasons || 'none named'})${passes}`,
    true,
    undefined,
    cooldownEndsInMs === undefined ? {} : { cooldownEndsInMs },
  );
}

/**
 * What the candidate's attempt reserves on the budgets (its worst case); undefined: refused.
 * Without budgets to reserve on, nothing to wait for.
 */
function reservationFor(
  call: CallPlan,
  deployment: DeploymentEntry,
): Reserved[] | undefined | Promise<Reserved[] | undefined> {
  const worst = costUsd(deployment, call.worstCase) ?? 0;
  return worst > 0 && call.budgets.length > 0 ? reserve(call.budgets, worst) : [];
}

/** The candidate's attempt with its reservation; undefined: its key cannot be opened here. */
function openAttempt(
  deps: RouterDeps,
  service: LlmService,
  call: CallPlan,
  state: LoopState,
  request: ChatRequest,
  deployment: DeploymentEntry,
  reserved: Reserved[],
): Attempt | undefined {
  // Opened only for an attempt that will be made (and metered with its DECRYPT audit row).
  let client: ReturnType<typeof clientFor>;
  try {
    client = clientFor(deps, deployment);
  } catch (error) {
    settle(reserved, 0);
    if (!(error instanceof VaultError)) throw error;
    return undefined; // KEY_UNREADABLE: this keyring cannot open it
  }
  state.attempts += 1;
  const plan = {
    deployment,
    service,
    scope: call.scope,
    attempt: state.attempts,
    reserved,
  };
  return new Attempt(deps, plan, request, client);
}

/**
 * The router's own time in a call (llm_router_overhead_seconds): running from the call's start,
 * paused while an attempt streams (the provider's time, and the caller's between deltas).
 */
class OverheadClock {
  private own = 0;
  private since: number | undefined = performance.now();

  pause(): void {
    if (this.since !== undefined) this.own += performance.now() - this.since;
    this.since = undefined;
  }

  resume(): void {
    this.since ??= performance.now();
  }

  seconds(): number {
    this.pause();
    return this.own / 1000;
  }
}

const newLoopState = (): LoopState => ({
  attempts: 0,
  budgetRefused: false,
  lastError: undefined,
  dirty: false,
  rejected: new Set(),
});

/** A candidate not to try (its secret was rejected in this call); LOCAL ends the loop. */
function skipped(deployment: DeploymentEntry, state: LoopState): boolean {
  // Ranked before the rejection: a deployment on the same secret is not tried with it.
  if (deployment.key && state.rejected.has(deployment.key.fingerprint)) return true;
  if (deployment.kind === 'LOCAL')
    throw new LocalDeploymentChosen(
      state.attempts > 0 || state.budgetRefused,
      `route chose ${deployment.name}`,
      deployment,
      state.attempts + 1,
    );
  return false;
}

/** What a failed attempt leaves for the next: text to start over, its error, its secret. */
function noteFailure(state: LoopState, deployment: DeploymentEntry, done: AttemptResult): void {
  state.dirty = done.yielded;
  state.lastError = done.error;
  if (done.outcome === 'REJECTED' && deployment.key) state.rejected.add(deployment.key.fingerprint);
}

async function* routeCall(
  deps: RouterDeps,
  service: LlmService,
  request: ChatRequest,
): AsyncGenerator<string> {
  // One generator between the SDK's stream and the caller (a wrapper's yield* would be two).
  const clock = new OverheadClock();
  let outcome: 'ok' | 'local' | 'error' = 'error';
  try {
    // Awaited only what is not at hand: on the hot path (the team's view loaded, the cooldowns
    // read, no budget) the request starts in this tick, not behind the event loop's queue.
    const scope = request.call ?? { teamId: null, apiKeyId: null };
    const view = deps.catalog.loaded(scope.teamId) ?? (await deps.catalog.view(scope.teamId));
    const reading = deps.cooldowns.watch(view.routes.get(service)!.deploymentIds);
    if (reading) await reading;
    const call = planCall(deps, service, request, scope, view);
    const state = newLoopState();
    for (const candidate of attemptOrder(call.route.strategy, call.ranked)) {
      if (state.attempts >= call.route.maxAttempts) break;
      const deployment = candidate.deployment!;
      if (skipped(deployment, state)) continue;
      const reservation = reservationFor(call, deployment);
      const reserved = reservation instanceof Promise ? await reservation : reservation;
      if (!reserved) {
        state.budgetRefused = true;
        continue;
      }
      const attempt = openAttempt(deps, service, call, state, request, deployment, reserved);
      if (!attempt) continue;
      if (state.dirty) request.onRestart?.();
      let result: AttemptResult | undefined;
      clock.pause();
      try {
        for await (const delta of attempt.open()) {
          const text = attempt.saw(delta);
          if (text) yield text;
        }
        yield* attempt.succeeded();
      } catch (error) {
        attempt.failed(error);
      } finally {
        clock.resume();
        result = attempt.end(); // also when the caller stops reading (metered ABORTED)
      }
      if (result!.outcome === 'OK') {
        outcome = 'ok';
        return request.onProvider?.(PROVIDERS[deployment.kind].label);
      }
      noteFailure(state, deployment, result!);
      if ((await afterFailure(deps, deployment, result!)) === 'stop') throw result!.error;
    }
    await giveUp(deps, service, call, state, request);
  } catch (error) {
    if (error instanceof LocalProviderChosen) outcome = localChosen(deps, service, request, error);
    throw error;
  } finally {
    const label = service === 'PLAN' ? 'plan' : 'report';
    deps.metrics?.routed({ service: label, outcome, seconds: clock.seconds() });
  }
}

export interface LlmRouter {
  /** A chat client whose every call is routed for `service` (the call's scope says whose). */
  chat(service: LlmService): ChatClient;
  readonly deps: RouterDeps;
}

export function createLlmRouter(deps: RouterDeps): LlmRouter {
  return {
    deps,
    chat(service) {
      return {
        name: 'routed',
        model: 'routed',
        streamChat: (request) => routeCall(deps, service, request),
      };
    },
  };
}
