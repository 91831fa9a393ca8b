// The LLM platform of one process (issue 29), made once with the topic settings: the `env`
// deployment written from LLM_*, the catalog of routes and deployments, the cooldowns shared
// through Redis, the latency window, the metering writer, the router over them, and a timer
// expiring budget reservations a dead process left.
import type { ReportsConfig } from '../../platform/config.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Keyring } from '../../platform/vault.js';
import type { LlmMetrics } from '../topics/llm-metrics.js';
import { publicOnlyFetch } from './base-url.js';
import { expireBudgetReservations } from './budgets.js';
import { createCatalog, type Catalog } from './catalog.js';
import { createCooldowns, type Cooldowns } from './cooldowns.js';
import { ensureEnvDeployment } from './deployments.js';
import { LatencyWindow } from './latency.js';
import { createMeteringWriter, type MeteringWriter } from './metering.js';
import { createLlmRouter, type LlmRouter } from './router.js';

export interface LlmPlatform {
  router: LlmRouter;
  catalog: Catalog;
  cooldowns: Cooldowns;
  latency: LatencyWindow;
  metering: MeteringWriter;
  keyring: Keyring;
  allowPrivateBaseUrls: boolean;
  pubsub: PubSub;
  envDeploymentId: string;
  close(): Promise<void>;
}

export interface LlmPlatformOptions {
  reports: Pick<ReportsConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model'> &
    Partial<Pick<ReportsConfig, 'llmPrices' | 'attemptTimeoutMs'>>;
  keyring: Keyring;
  allowPrivateBaseUrls: boolean;
  pubsub: PubSub;
  redisUrl?: string | null;
  keyPrefix: string;
  metrics?: LlmMetrics;
  onClose?: () => Promise<void> | void;
}

/** LLM_ATTEMPT_TIMEOUT_MS's default: a provider silent for 30 s is taken for gone. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** How often every process looks for reservations a dead process left (cheap: an index scan). */
const EXPIRE_EVERY_MS = 60_000;

export async function createLlmPlatform(options: LlmPlatformOptions): Promise<LlmPlatform> {
  const envDeploymentId = await ensureEnvDeployment(options.reports);
  const catalog = createCatalog(options.pubsub, envDeploymentId);
  const cooldowns = await createCooldowns({
    pubsub: options.pubsub,
    redisUrl: options.redisUrl,
    keyPrefix: options.keyPrefix,
  });
  const latency = new LatencyWindow();
  const metering = createMeteringWriter();
  const router = createLlmRouter({
    catalog,
    cooldowns,
    pubsub: options.pubsub,
    keyring: options.keyring,
    metering,
    latency,
    metrics: options.metrics,
    envApiKey: options.reports.apiKey,
    fetch: options.allowPrivateBaseUrls ? undefined : publicOnlyFetch(),
    attemptTimeoutMs: options.reports.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
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
    catalog,
    cooldowns,
    latency,
    metering,
    keyring: options.keyring,
    allowPrivateBaseUrls: options.allowPrivateBaseUrls,
    pubsub: options.pubsub,
    envDeploymentId,
    async close() {
      clearInterval(expiring);
      await metering.close();
      await cooldowns.close();
      await catalog.close();
      await options.onClose?.();
    },
  };
}
