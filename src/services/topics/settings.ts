// What planning a topic needs from the process, made once at start-up by main (and by tests,
// with their own limits) and passed down: the LLM planner's budget, and the plan rate limit
// (shared through Redis when it is configured). The planner itself is the LLM gateway's.
import type { TopicsConfig } from '../../platform/config.js';
import { createRateLimiter, type RateLimiter } from '../../platform/rate-limit.js';
import type { RedisSource } from '../../platform/redis.js';

export interface TopicSettings {
  planBudgetMs: number;
  planLimiter: RateLimiter;
}

export interface TopicSettingsOptions extends Partial<TopicsConfig> {
  /** Plan buckets live in Redis when set (shared by every process). */
  redis?: RedisSource | null;
  /** Redis key prefix of the buckets (`<prefix>plan`). */
  keyPrefix?: string;
}

export const DEFAULT_PLAN_BUDGET_MS = 2_000;
export const DEFAULT_PLANS_PER_MINUTE = 10;

export async function createTopicSettings(
  options: TopicSettingsOptions = {},
): Promise<TopicSettings> {
  return {
    planBudgetMs: options.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
    planLimiter: await createRateLimiter({
      points: options.planRateLimitPerMinute ?? DEFAULT_PLANS_PER_MINUTE,
      durationSeconds: 60,
      redis: options.redis,
      keyPrefix: `${options.keyPrefix ?? 'agent-growth:'}plan`,
    }),
  };
}

/** Closes the limiter's Redis connection. */
export async function closeTopicSettings(settings: TopicSettings): Promise<void> {
  await settings.planLimiter.close();
}
