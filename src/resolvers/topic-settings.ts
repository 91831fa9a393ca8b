// Topics' process-wide settings, configured once at start-up (main.ts; tests reconfigure):
// the text provider and LLM planner, the plan budget, and the shared plan rate limit.
// Unconfigured, topics run on the local provider with an in-memory limit of 10 per minute.
import type { ReportsConfig } from '../config.js';
import { createProviders, type ChatClient, type ReportWriter } from '../reports/providers/index.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';

export interface TopicSettings {
  writer: ReportWriter;
  /** The LLM planner; undefined: the local planner. */
  planner: ChatClient | undefined;
  planBudgetMs: number;
  planLimiter: RateLimiter;
}

export interface TopicSettingsOptions {
  reports: Pick<ReportsConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model'> & Partial<Pick<ReportsConfig, 'planBudgetMs' | 'planRateLimitPerMinute'>>;
  /** Plan buckets live in Redis when set (shared by every API process). */
  redisUrl?: string | null;
  /** Redis key prefix of the buckets (`<prefix>plan`). */
  keyPrefix?: string;
  /** Tests: a writer of their own (to fail on purpose). */
  writer?: ReportWriter;
}

export const DEFAULT_PLAN_BUDGET_MS = 2_000;
export const DEFAULT_PLANS_PER_MINUTE = 10;

let current: TopicSettings | undefined;
let pending: Promise<TopicSettings> | undefined;

async function build(options: TopicSettingsOptions): Promise<TopicSettings> {
  const providers = createProviders(options.reports);
  return {
    writer: options.writer ?? providers.writer,
    planner: providers.chat,
    planBudgetMs: options.reports.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
    planLimiter: await createRateLimiter({
      points: options.reports.planRateLimitPerMinute ?? DEFAULT_PLANS_PER_MINUTE,
      durationSeconds: 60,
      redisUrl: options.redisUrl,
      keyPrefix: `${options.keyPrefix ?? 'agent-growth:'}plan`,
    }),
  };
}

/** Replaces the settings (closing the previous limiter's Redis connection). */
export async function configureTopics(options: TopicSettingsOptions): Promise<TopicSettings> {
  const next = await build(options);
  const previous = current;
  current = next;
  await previous?.planLimiter.close();
  return next;
}

export async function topicSettings(): Promise<TopicSettings> {
  if (current) return current;
  pending ??= build({ reports: { provider: 'local', baseUrl: undefined, apiKey: undefined, model: undefined } }).then((built) => {
    current ??= built;
    return current;
  });
  return pending;
}

/** Shutdown and tests: closes the limiter's connection; the next use starts from the defaults. */
export async function closeTopics(): Promise<void> {
  const previous = current;
  current = undefined;
  pending = undefined;
  await previous?.planLimiter.close();
}
