// What topics need from the process, made once at start-up by main (and by tests, with their
// own writer or limits) and passed down: the text provider and LLM planner, the plan budget,
// and the plan rate limit (shared through Redis when it is configured).
import type { ReportsConfig } from '../../platform/config.js';
import { createRateLimiter, type RateLimiter } from '../../platform/rate-limit.js';
import {
  createProviders,
  type ChatClient,
  type ReportWriter,
} from '../../reports/providers/index.js';
import { llmWriter } from '../../reports/providers/llm.js';
import { NO_PRICES, type LlmMetrics } from './llm-metrics.js';

export interface TopicSettings {
  writer: ReportWriter;
  /** The LLM planner; undefined: the local planner. */
  planner: ChatClient | undefined;
  planBudgetMs: number;
  planLimiter: RateLimiter;
}

export interface TopicSettingsOptions {
  reports: Pick<ReportsConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model'> &
    Partial<Pick<ReportsConfig, 'planBudgetMs' | 'planRateLimitPerMinute' | 'llmPrices'>>;
  /** Measures the LLM's calls (llm_* on /metrics); unset: not measured. */
  llmMetrics?: LlmMetrics;
  /** Plan buckets live in Redis when set (shared by every API process). */
  redisUrl?: string | null;
  /** Redis key prefix of the buckets (`<prefix>plan`). */
  keyPrefix?: string;
  /** Tests: a writer of their own (to fail on purpose). */
  writer?: ReportWriter;
}

export const DEFAULT_PLAN_BUDGET_MS = 2_000;
export const DEFAULT_PLANS_PER_MINUTE = 10;

/** The local provider, no LLM: the default, and what tests and tools start from. */
export const LOCAL_REPORTS: TopicSettingsOptions['reports'] = {
  provider: 'local',
  baseUrl: undefined,
  apiKey: undefined,
  model: undefined,
};

/** The LLM as the planner and the writer call it: measured per service when metrics are given. */
function chatsOf(options: TopicSettingsOptions): { writer: ReportWriter; planner?: ChatClient } {
  const { writer, chat } = createProviders(options.reports);
  const { llmMetrics } = options;
  if (!chat || !llmMetrics) return { writer, planner: chat };
  const prices = options.reports.llmPrices ?? NO_PRICES;
  return {
    writer: llmWriter(llmMetrics.instrument(chat, 'report', prices)),
    planner: llmMetrics.instrument(chat, 'plan', prices),
  };
}

export async function createTopicSettings(options: TopicSettingsOptions): Promise<TopicSettings> {
  const chats = chatsOf(options);
  return {
    writer: options.writer ?? chats.writer,
    planner: chats.planner,
    planBudgetMs: options.reports.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
    planLimiter: await createRateLimiter({
      points: options.reports.planRateLimitPerMinute ?? DEFAULT_PLANS_PER_MINUTE,
      durationSeconds: 60,
      redisUrl: options.redisUrl,
      keyPrefix: `${options.keyPrefix ?? 'agent-growth:'}plan`,
    }),
  };
}

/** Closes the limiter's Redis connection. */
export function closeTopicSettings(settings: TopicSettings): Promise<void> {
  return settings.planLimiter.close();
}
