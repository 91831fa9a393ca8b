// The LLM gateway of one process, built once by main (and by tests) and passed down: the `env`
// deployment written from LLM_*, the catalog of routes and deployments, the cooldowns shared
// through Redis, the latency window, the metering writer, the router over them, the planner
// and report writer routed through it, and a timer expiring budget reservations a dead
// process left (docs/llm.md).
import type { Config, LlmConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { publicOnlyFetch } from '../platform/outbound-url.js';
import { createInProcessPubSub, type PubSub } from '../platform/pubsub.js';
import type { RedisSource } from '../platform/redis.js';
import { generateKeyringText, parseKeyring, type Keyring } from '../platform/vault.js';
import { llmWriter } from '../reports/writers/chat-writer.js';
import type { ChatClient, ReportWriter } from '../reports/writers/types.js';
import { expireBudgetReservations } from './budget-reservations.js';
import { createCatalog, type Catalog } from './catalog.js';
import type { SoftLimitCrossing } from './sql/settle-budget.js';
import { createCooldowns, type Cooldowns } from './cooldowns.js';
import { ensureEnvDeployment } from './env-deployment.js';
import { LatencyWindow } from './latency.js';
import { createMeteringWriter, type MeteringWriter } from './metering.js';
import type { LlmMetrics } from './metrics.js';
import { createLlmRouter, type LlmRouter } from './router.js';
import { openVault } from './vault.js';

export interface LlmGateway {
  router: LlmRouter;
  /**
   * Writes report sections through the WRITE route of the section's team: pass
   * `SectionRequest.call` ({ teamId, apiKeyId, topicId, taskId }) to say whose it is.
   */
  writer: ReportWriter;
  /** Plans through the PLAN route of `ChatRequest.call`'s team (LocalProviderChosen when local). */
  planner: ChatClient;
  catalog: Catalog;
  cooldowns: Cooldowns;
  latency: LatencyWindow;
  metering: MeteringWriter;
  keyring: Keyring;
  allowPrivateBaseUrls: boolean;
  pubsub: PubSub;
  envDeploymentId: string;
  /** Flushes the metering and closes the cooldowns' and catalog's connections. */
  close(): Promise<void>;
}

export interface LlmGatewayOptions {
  /** LLM_*: the `env` deployment (and its key), the attempt timeout. */
  llm?: Partial<Pick<LlmConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model' | 'prices'>> &
    Partial<Pick<LlmConfig, 'attemptTimeoutMs' | 'keyring' | 'allowPrivateBaseUrls'>>;
  /**
   * The service's start (main): its keyring (or a development one in DATA_DIR), checked
   * against every stored key. Unset: `llm.keyring`, or a throw-away one.
   */
  vault?: Pick<Config, 'nodeEnv' | 'dataDir' | 'llm'>;
  /** Cooldown and config-change signals between processes; unset: this process only. */
  pubsub?: PubSub;
  /** Cooldowns live in Redis when set (shared by every process). */
  redis?: RedisSource | null;
  /** Redis key prefix of the cooldowns. */
  keyPrefix?: string;
  /** Measures the calls (llm_* on /metrics); unset: not measured. */
  metrics?: LlmMetrics;
  /** Tests: a writer of their own (to fail on purpose). */
  writer?: ReportWriter;
  /** A budget a call's cost took past its soft limit (main: the budget.threshold webhook). */
  onSoftLimit?: (crossing: SoftLimitCrossing) => void;
}

/** LLM_ATTEMPT_TIMEOUT_MS's default: a provider silent for 30 s is taken for gone. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** How often every process looks for reservations a dead process left (cheap: an index scan). */
const EXPIRE_EVERY_MS = 60_000;

export async function createLlmGateway(options: LlmGatewayOptions = {}): Promise<LlmGateway> {
  const llm = { provider: 'LOCAL' as const, ...options.llm };
  const keyring: Keyring = options.vault
    ? await openVault(options.vault)
    : (llm.keyring ?? parseKeyring(generateKeyringText()));
  const allowPrivateBaseUrls =
    options.vault?.llm.allowPrivateBaseUrls ?? llm.allowPrivateBaseUrls ?? true;
  const ownPubSub = options.pubsub ? undefined : createInProcessPubSub(options.keyPrefix ?? '');
  const pubsub = options.pubsub ?? ownPubSub!;
  const envDeploymentId = await ensureEnvDeployment(llm);
  const catalog = createCatalog(pubsub, envDeploymentId);
  const cooldowns = await createCooldowns({
    pubsub,
    redis: options.redis,
    keyPrefix: options.keyPrefix ?? 'agent-growth:',
  });
  const latency = new LatencyWindow();
  const metering = createMeteringWriter();
  const router = createLlmRouter({
    catalog,
    cooldowns,
    pubsub,
    keyring,
    metering,
    latency,
    metrics: options.metrics,
    onSoftLimit: options.onSoftLimit,
    envApiKey: llm.apiKey,
    fetch: allowPrivateBaseUrls ? undefined : publicOnlyFetch(),
    attemptTimeoutMs: llm.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
  });
  const expiring = setInterval(() => {
    expireBudgetReservations().then(
      (expired) => {
        if (expired) logger.warn({ expired }, 'LLM budget reservations expired unsettled');
      },
      (error: unknown) => logger.warn({ err: error }, 'LLM budget reservations: expiry failed'),
    );
  }, EXPIRE_EVERY_MS);
  expiring.unref();
  return {
    router,
    writer: options.writer ?? llmWriter(router.chat('WRITE')),
    planner: router.chat('PLAN'),
    catalog,
    cooldowns,
    latency,
    metering,
    keyring,
    allowPrivateBaseUrls,
    pubsub,
    envDeploymentId,
    async close() {
      clearInterval(expiring);
      await metering.close();
      await cooldowns.close();
      await catalog.close();
      await ownPubSub?.close();
    },
  };
}
