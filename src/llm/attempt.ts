// One attempt of a routed call on one deployment: the key opened from the vault (audited
// with this call), the SDK client made with its retries off, the stream passed through
// while its time to first token and usage are taken, and then, whatever happened, the
// attempt metered (a row, /metrics) and its budget reservation settled, off the token path.
import { randomUUID } from 'node:crypto';
import type { LlmCallOutcome, LlmService } from '../generated/prisma/enums.js';
import type { Keyring } from '../platform/vault.js';
import { openSecret, secretBinding } from '../platform/vault.js';
import { createChatClient, PROVIDERS } from './providers/index.js';
import {
  ProviderError,
  type ChatClient,
  type ChatRequest,
  type LlmCallScope,
  type TokenUsage,
} from '../reports/writers/types.js';
import type { LlmMetrics } from './metrics.js';
import { settle } from './budget-reservations.js';
import type { DeploymentEntry } from './catalog.js';
import type { LatencyWindow } from './latency.js';
import type { LlmCallRow, MeteringWriter } from './metering.js';
import { CHARS_PER_TOKEN, costUsd, estimateTokens } from './ranking.js';
import { classify, REFUSED, safeError, type AttemptResult } from './attempt-outcome.js';
import { KeyEcho } from './key-echo.js';
import type { Reserved } from './sql/reserve-budget.js';
import type { SoftLimitCrossing } from './sql/settle-budget.js';

export interface AttemptDeps {
  keyring: Keyring | undefined;
  metering: MeteringWriter;
  latency: LatencyWindow;
  metrics: LlmMetrics | undefined;
  /** LLM_API_KEY, for the env deployment (never stored). */
  envApiKey: string | undefined;
  /** The fetch the SDKs use (production: public addresses only). */
  fetch: typeof fetch | undefined;
  /**
   * An attempt that streams nothing for this long (its first token, or the next) ends as a
   * TIMEOUT of its own: the loop goes on to the next candidate and cools its deployment down.
   */
  attemptTimeoutMs: number;
  /** A budget this call's cost took past its soft limit (the service sends budget.threshold). */
  onSoftLimit?: (crossing: SoftLimitCrossing) => void;
}

export interface AttemptPlan {
  deployment: DeploymentEntry;
  service: LlmService;
  scope: LlmCallScope;
  attempt: number;
  reserved: Reserved[];
}

export type { AttemptResult } from './attempt-outcome.js';

/** The deployment's SDK client, made once per catalog entry (a change of it makes a new entry). */
export interface DeploymentClient {
  client: ChatClient;
  secret: string | undefined;
}

const clients = new WeakMap<DeploymentEntry, DeploymentClient>();

/**
 * The client of a deployment; `decrypted` when its key was opened for this call (audited
 * with it). Throws VaultError when the keyring cannot open the key.
 */
export function clientFor(
  deps: AttemptDeps,
  deployment: DeploymentEntry,
): DeploymentClient & { decrypted: boolean } {
  const made = clients.get(deployment);
  if (made) return { ...made, decrypted: false };
  const key = deployment.key;
  let secret = deployment.fromEnvironment ? deps.envApiKey : undefined;
  if (key && !deployment.fromEnvironment) {
    if (!deps.keyring) throw new Error('the key vault has no keyring');
    secret = openSecret(deps.keyring, key.sealed, secretBinding(key.teamId, key.id));
  }
  const client = createChatClient(deployment.kind, {
    baseUrl: deployment.baseUrl ?? undefined,
    apiKey: secret,
    model: deployment.model,
    // LLM_BASE_URL is the operator's own (often a model server on the private network).
    fetch: deployment.fromEnvironment ? undefined : deps.fetch,
  });
  clients.set(deployment, { client, secret });
  return { client, secret, decrypted: Boolean(key && !deployment.fromEnvironment) };
}

export interface Measured {
  id: string;
  started: number;
  usage: TokenUsage | undefined;
  firstTokenMs: number | undefined;
  chars: number;
  result: AttemptResult | undefined;
  /** The HTTP status its stream opened with (a stream then cut or silent still answered). */
  status?: number;
}

/** The attempt's llm_calls row. */
function callRow(
  plan: AttemptPlan,
  m: Measured,
  measured: {
    counted: TokenUsage;
    cost: number;
    outcome: LlmCallOutcome;
    latencyMs: number;
    at: Date;
  },
): LlmCallRow {
  const { deployment, scope } = plan;
  return {
    id: m.id,
    service: plan.service,
    deploymentId: deployment.id,
    provider: PROVIDERS[deployment.kind].label,
    model: deployment.model,
    teamId: scope.teamId,
    apiKeyId: scope.apiKeyId,
    topicId: scope.topicId ?? null,
    taskId: scope.taskId ?? null,
    workflowId: scope.workflowId ?? null,
    attempt: plan.attempt,
    inputTokens: measured.counted.inputTokens,
    outputTokens: measured.counted.outputTokens,
    usageEstimated: !m.usage && measured.counted.inputTokens + measured.counted.outputTokens > 0,
    costUsd: measured.cost,
    latencyMs: Math.round(measured.latencyMs),
    timeToFirstTokenMs: m.firstTokenMs === undefined ? null : Math.round(m.firstTokenMs),
    outcome: measured.outcome,
    httpStatus: m.result?.status ?? m.status ?? null,
    createdAt: measured.at,
  };
}

/** The attempt's row, its /metrics observations, its latency sample and its budget settled. */
export function meter(
  deps: AttemptDeps,
  plan: AttemptPlan,
  request: ChatRequest,
  m: Measured,
  decrypted: boolean,
): void {
  const { deployment, scope } = plan;
  const latencyMs = performance.now() - m.started;
  const outcome = m.result?.outcome ?? 'ABORTED';
  const counted =
    m.usage ??
    (REFUSED.has(outcome) && m.chars === 0
      ? { inputTokens: 0, outputTokens: 0 }
      : {
          inputTokens: estimateTokens(request.system + request.user),
          // Never past what was asked for: the provider stops there.
          outputTokens: Math.min(Math.ceil(m.chars / CHARS_PER_TOKEN), request.maxTokens),
        });
  const cost = costUsd(deployment, counted) ?? 0;
  const firstTokenMs = m.firstTokenMs;
  if (outcome === 'OK' && firstTokenMs !== undefined)
    deps.latency.record(deployment.id, firstTokenMs);
  settle(plan.reserved, cost, (crossing) => {
    deps.metrics?.softLimitPassed(crossing.scope === 'TEAM' ? 'team' : 'api_key');
    deps.onSoftLimit?.(crossing);
  });
  request.onMetered?.({ ...counted, costUsd: cost });
  const at = new Date();
  deps.metering.record(
    callRow(plan, m, { counted, cost, outcome, latencyMs, at }),
    deployment.key && !deployment.fromEnvironment
      ? {
          providerKeyId: deployment.key.id,
          teamId: deployment.key.teamId,
          apiKeyId: scope.apiKeyId,
          llmCallId: m.id,
          at,
          decrypted,
        }
      : undefined,
  );
  deps.metrics?.record({
    provider: PROVIDERS[deployment.kind].label,
    model: deployment.model,
    service: plan.service === 'PLAN' ? 'plan' : 'report',
    outcome: outcome.toLowerCase(),
    seconds: latencyMs / 1000,
    firstTokenSeconds: firstTokenMs === undefined ? undefined : firstTokenMs / 1000,
    // Tokens on /metrics: as the provider reported them, or estimated for a call that answered.
    usage: m.usage ?? (outcome === 'OK' ? counted : undefined),
    costUsd: cost,
  });
}

/**
 * One attempt, measured: the router's own loop passes the deltas of `open()` on (one async
 * generator between the SDK's stream and the caller, not two) and tells it how it went;
 * `end()` meters it whatever happened (a caller that stopped reading: ABORTED).
 */
export class Attempt {
  /**
   * The attempt's own signal: aborted with the caller's, or alone when the provider stays
   * silent too long. Linked to the caller's by a listener rather than AbortSignal.any, which
   * cost CPU on every call (bench/README.md, "LLM router").
   */
  private readonly controller = new AbortController();
  private silent = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly follow = () => this.controller.abort(this.request.signal.reason);
  /** The deltas as the caller may see them (an echoed key replaced). */
  private readonly echo: KeyEcho;
  private readonly m: Measured = {
    id: randomUUID(),
    started: performance.now(),
    usage: undefined,
    firstTokenMs: undefined,
    chars: 0,
    result: undefined,
  };

  constructor(
    private readonly deps: AttemptDeps,
    private readonly plan: AttemptPlan,
    private readonly request: ChatRequest,
    private readonly client: DeploymentClient & { decrypted: boolean },
  ) {
    this.echo = new KeyEcho(client.secret);
  }

  open(): AsyncIterable<string> {
    const onUsage = (usage: TokenUsage) => (this.m.usage = usage);
    const onResponse = (status: number) => (this.m.status = status);
    const limit = Math.min(this.deps.attemptTimeoutMs, this.request.attemptTimeoutMs ?? Infinity);
    this.timer = setTimeout(() => {
      this.silent = true;
      this.controller.abort(new Error('silent'));
    }, limit);
    if (this.request.signal.aborted) this.follow();
    else this.request.signal.addEventListener('abort', this.follow, { once: true });
    const signal = this.controller.signal;
    return this.client.client.streamChat({
      ...this.request,
      signal,
      maxRetries: 0,
      onUsage,
      onResponse,
    });
  }

  /**
   * A delta on its way to the caller (the provider spoke: its silence starts over); what of it
   * the caller may see (an echoed key replaced).
   */
  saw(delta: string): string {
    this.m.firstTokenMs ??= performance.now() - this.m.started;
    this.m.chars += delta.length;
    this.timer?.refresh();
    return this.echo.pass(delta);
  }

  /** The stream ended well: the text it held back (none, or the end that was not the key). */
  succeeded(): string[] {
    clearTimeout(this.timer);
    this.m.result = { outcome: 'OK', yielded: this.m.chars > 0 };
    const rest = this.echo.rest();
    return rest ? [rest] : [];
  }

  failed(error: unknown): void {
    clearTimeout(this.timer);
    const { signal } = this.request;
    if (this.silent && !signal.aborted) {
      const { name } = this.plan.deployment;
      const waited = Math.round(performance.now() - this.m.started);
      this.m.result = {
        outcome: 'TIMEOUT',
        silent: true,
        yielded: this.m.chars > 0,
        error: new ProviderError(`${name}: no answer for ${waited} ms`, true),
      };
      return;
    }
    const classified = classify(error, signal);
    // The connection dropped after text came: the stream was cut before its end.
    if (classified.outcome === 'NETWORK_ERROR' && this.m.chars > 0) classified.outcome = 'CUT';
    this.m.result = {
      ...classified,
      yielded: this.m.chars > 0,
      error: safeError(error, this.client.secret, signal),
    };
  }

  /** Meters the attempt; its result (undefined: the caller stopped reading). */
  end(): AttemptResult | undefined {
    clearTimeout(this.timer);
    this.request.signal.removeEventListener('abort', this.follow);
    meter(this.deps, this.plan, this.request, this.m, this.client.decrypted);
    return this.m.result;
  }
}
