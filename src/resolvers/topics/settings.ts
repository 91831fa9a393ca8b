// What topics need from the process, made once at start-up by main (and by tests, with their
// own writer or limits) and passed down: the routed writer and planner (src/resolvers/llm),
// the plan budget, and the plan rate limit (shared through Redis when it is configured).
import type { Config, ReportsConfig } from '../../platform/config.js';
import { createInProcessPubSub, type PubSub } from '../../platform/pubsub.js';
import { createRateLimiter, type RateLimiter } from '../../platform/rate-limit.js';
import { generateKeyringText, parseKeyring, type Keyring } from '../../platform/vault.js';
import { llmWriter, type ChatClient, type ReportWriter } from '../../reports/providers/index.js';
import { createLlmPlatform, type LlmPlatform } from '../llm/platform.js';
import { openVault } from '../llm/vault-startup.js';
import type { LlmMetrics } from './llm-metrics.js';

export interface TopicSettings {
  /**
   * Writes report sections through the WRITE route of the section's team: pass
   * `SectionRequest.call` ({ teamId, apiKeyId, topicId, taskId }) to say whose it is.
   */
  writer: ReportWriter;
  /**
   * The planner, routed through the PLAN route of `ChatRequest.call`'s team (makePlan's
   * `call`): it answers LocalProviderChosen when the route says local.
   */
  planner: ChatClient | undefined;
  planBudgetMs: number;
  planLimiter: RateLimiter;
  /** The LLM platform: router, vault keyring, metering, cooldowns (what the llm services need). */
  llm: LlmPlatform;
}

export interface TopicSettingsOptions {
  reports: Pick<ReportsConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model'> &
    Partial<
      Pick<
        ReportsConfig,
        'planBudgetMs' | 'planRateLimitPerMinute' | 'llmPrices' | 'attemptTimeoutMs'
      >
    >;
  /** Measures the LLM's calls (llm_* on /metrics); unset: not measured. */
  llmMetrics?: LlmMetrics;
  /** Plan buckets and LLM cooldowns live in Redis when set (shared by every process). */
  redisUrl?: string | null;
  /** Redis key prefix of the buckets (`<prefix>plan`) and cooldowns. */
  keyPrefix?: string;
  /** Tests: a writer of their own (to fail on purpose). */
  writer?: ReportWriter;
  /** The vault's keyring and where base URLs may point; unset: a throw-away keyring, private URLs allowed. */
  llm?: Partial<Config['llm']>;
  /** Cooldown and config-change signals between processes; unset: this process only. */
  pubsub?: PubSub;
  /** The service's start (main): its keyring (or a development one), checked against every stored key. */
  vault?: Pick<Config, 'nodeEnv' | 'dataDir' | 'llm'>;
}

/** What the service's start (main) gives: the configuration's provider, Redis, prefix and key vault. */
export const topicOptionsOf = (config: Config): TopicSettingsOptions => ({
  reports: config.reports,
  redisUrl: config.redisUrl,
  keyPrefix: config.pubsubPrefix,
  vault: config,
});

export const DEFAULT_PLAN_BUDGET_MS = 2_000;
export const DEFAULT_PLANS_PER_MINUTE = 10;

/** The local provider, no LLM: the default, and what tests and tools start from. */
export const LOCAL_REPORTS: TopicSettingsOptions['reports'] = {
  provider: 'local',
  baseUrl: undefined,
  apiKey: undefined,
  model: undefined,
};

export async function createTopicSettings(options: TopicSettingsOptions): Promise<TopicSettings> {
  const keyPrefix = options.keyPrefix ?? 'agent-growth:';
  const keyring: Keyring = options.vault
    ? await openVault(options.vault)
    : (options.llm?.keyring ?? parseKeyring(generateKeyringText()));
  const ownPubSub = options.pubsub ? undefined : createInProcessPubSub(keyPrefix);
  const llm = await createLlmPlatform({
    reports: options.reports,
    keyring,
    allowPrivateBaseUrls:
      options.vault?.llm.allowPrivateBaseUrls ?? options.llm?.allowPrivateBaseUrls ?? true,
    pubsub: options.pubsub ?? ownPubSub!,
    redisUrl: options.redisUrl,
    keyPrefix,
    metrics: options.llmMetrics,
    onClose: () => ownPubSub?.close(),
  });
  return {
    writer: options.writer ?? llmWriter(llm.router.chat('WRITE')),
    planner: llm.router.chat('PLAN'),
    planBudgetMs: options.reports.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
    planLimiter: await createRateLimiter({
      points: options.reports.planRateLimitPerMinute ?? DEFAULT_PLANS_PER_MINUTE,
      durationSeconds: 60,
      redisUrl: options.redisUrl,
      keyPrefix: `${keyPrefix}plan`,
    }),
    llm,
  };
}

/** Closes the limiter's Redis connection and the LLM platform (its metering flushed first). */
export async function closeTopicSettings(settings: TopicSettings): Promise<void> {
  await settings.planLimiter.close();
  await settings.llm.close();
}
