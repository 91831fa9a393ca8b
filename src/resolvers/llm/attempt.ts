// One attempt of a routed call on one deployment: the key opened from the vault (audited
// with this call), the SDK client made with its retries off, the stream passed through
// while its time to first token and usage are taken, and then, whatever happened, the
// attempt metered (a row, /metrics) and its budget reservation settled, off the token path.
import { randomUUID } from 'node:crypto';
import type { LlmCallOutcome, LlmService } from '../../generated/prisma/enums.js';
import type { Keyring } from '../../platform/vault.js';
import { openSecret, secretBinding } from '../../platform/vault.js';
import {
  createChatClient,
  ProviderError,
  type ChatClient,
  type ChatRequest,
  type LlmCallScope,
  type TokenUsage,
} from '../../reports/providers/index.js';
import type { LlmMetrics } from '../topics/llm-metrics.js';
import { settle } from './budgets.js';
import type { DeploymentEntry } from './catalog.js';
import type { LatencyWindow } from './latency.js';
import type { LlmCallRow, MeteringWriter } from './metering.js';
import { CHARS_PER_TOKEN, costUsd, estimateTokens } from './ranking.js';
import type { Reserved } from './sql/reserve-budget.js';

export interface AttemptDeps {
  keyring: Keyring | undefined;
  metering: MeteringWriter;
  latency: LatencyWindow;
  metrics: LlmMetrics | undefined;
  /** LLM_API_KEY, for the env deployment (never stored). */
  envApiKey: string | undefined;
  /** The fetch the SDKs use (production: public addresses only). */
  fetch: typeof fetch | undefined;
}

export interface AttemptPlan {
  deployment: DeploymentEntry;
  service: LlmService;
  scope: LlmCallScope;
  attempt: number;
  reserved: Reserved[];
}

export interface AttemptResult {
  outcome: LlmCallOutcome;
  /** Text reached the caller before it ended. */
  yielded: boolean;
  error?: unknown;
  status?: number;
  retryAfterMs?: number;
}

const PROVIDER = { OPENAI_COMPATIBLE: 'openai', ANTHROPIC: 'anthropic', LOCAL: 'local' } as const;

/** The secret out of error text: the provider may echo it (issue 29: never in a message). */
export function redact(message: string, secret: string | undefined): string {
  let text = secret && secret.length >= 4 ? message.split(secret).join('[redacted]') : message;
  text = text.replace(/(Bearer\s+)\S+/gi, '$1[redacted]');
  return text;
}

function classify(error: unknown, signal: AbortSignal): Omit<AttemptResult, 'yielded' | 'error'> {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    const timeout = reason?.name === 'TimeoutError' || reason?.message === 'timeout';
    return { outcome: timeout ? 'TIMEOUT' : 'ABORTED' };
  }
  if (!(error instanceof ProviderError)) return { outcome: 'ERROR' };
  const { status, detail } = error;
  const retryAfterMs = detail.retryAfterMs;
  if (detail.cut) return { outcome: 'CUT' };
  if (status === undefined) return { outcome: 'NETWORK_ERROR' };
  if (status === 401 || status === 403) return { outcome: 'REJECTED', status };
  if (status === 429) return { outcome: 'RATE_LIMITED', status, retryAfterMs };
  if (status === 408 || status === 409 || status >= 500)
    return { outcome: 'SERVER_ERROR', status, retryAfterMs };
  return { outcome: 'BAD_REQUEST', status };
}

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
  const client = createChatClient({
    provider: deployment.kind === 'ANTHROPIC' ? 'anthropic' : 'openai',
    baseUrl: deployment.baseUrl ?? undefined,
    apiKey: secret,
    model: deployment.model,
    // LLM_BASE_URL is the operator's own (often a model server on the private network).
    fetch: deployment.fromEnvironment ? undefined : deps.fetch,
  });
  clients.set(deployment, { client, secret });
  return { client, secret, decrypted: Boolean(key && !deployment.fromEnvironment) };
}

interface Measured {
  id: string;
  started: number;
  usage: TokenUsage | undefined;
  firstTokenMs: number | undefined;
  chars: number;
  result: AttemptResult | undefined;
}

/**
 * Outcomes of a request the provider refused or never got: with no text streamed, it
 * processed nothing, so nothing is billed (estimating the prompt charged budgets for 503s).
 */
const REFUSED: ReadonlySet<LlmCallOutcome> = new Set([
  'BAD_REQUEST',
  'REJECTED',
  'RATE_LIMITED',
  'SERVER_ERROR',
  'NETWORK_ERROR',
]);

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
    provider: PROVIDER[deployment.kind],
    model: deployment.model,
    teamId: scope.teamId,
    apiKeyId: scope.apiKeyId,
    topicId: scope.topicId ?? null,
    taskId: scope.taskId ?? null,
    attempt: plan.attempt,
    inputTokens: measured.counted.inputTokens,
    outputTokens: measured.counted.outputTokens,
    usageEstimated: !m.usage && measured.counted.inputTokens + measured.counted.outputTokens > 0,
    costUsd: measured.cost,
    latencyMs: Math.round(measured.latencyMs),
    timeToFirstTokenMs: m.firstTokenMs === undefined ? null : Math.round(m.firstTokenMs),
    outcome: measured.outcome,
    httpStatus: m.result?.status ?? null,
    createdAt: measured.at,
  };
}

/** The attempt's row, its /metrics observations, its latency sample and its budget settled. */
function meter(
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
          outputTokens: Math.ceil(m.chars / CHARS_PER_TOKEN),
        });
  const cost = costUsd(deployment, counted) ?? 0;
  const firstTokenMs = m.firstTokenMs;
  if (outcome === 'OK' && firstTokenMs !== undefined)
    deps.latency.record(deployment.id, firstTokenMs);
  settle(plan.reserved, cost);
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
    provider: PROVIDER[deployment.kind],
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

/** The error to pass on: the provider's, with the secret taken out of its message. */
function safeError(error: unknown, secret: string | undefined, signal: AbortSignal): unknown {
  if (signal.aborted && !(error instanceof ProviderError)) return error;
  const message = redact((error as Error)?.message ?? String(error), secret);
  return error instanceof ProviderError
    ? new ProviderError(message, error.retryable, error.status, error.detail)
    : new ProviderError(message, true);
}

/**
 * One attempt, measured: the router's own loop passes the deltas of `open()` on (one async
 * generator between the SDK's stream and the caller, not two) and tells it how it went;
 * `end()` meters it whatever happened (a caller that stopped reading: ABORTED).
 */
export class Attempt {
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
  ) {}

  open(): AsyncIterable<string> {
    const onUsage = (usage: TokenUsage) => (this.m.usage = usage);
    return this.client.client.streamChat({ ...this.request, maxRetries: 0, onUsage });
  }

  /** A delta on its way to the caller. */
  saw(delta: string): void {
    this.m.firstTokenMs ??= performance.now() - this.m.started;
    this.m.chars += delta.length;
  }

  succeeded(): void {
    this.m.result = { outcome: 'OK', yielded: this.m.chars > 0 };
  }

  failed(error: unknown): void {
    const { signal } = this.request;
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
    meter(this.deps, this.plan, this.request, this.m, this.client.decrypted);
    return this.m.result;
  }
}
