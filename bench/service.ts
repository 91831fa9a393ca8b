// The API and worker of a benchmark, made as src/main.ts makes them: the local text provider
// (with the plan limit out of the way), development webhooks, the service's task registry
// (plus the bench's own types) and its after-finish step.
import { createApp, type App } from '../src/http/app.js';
import type { RateLimitOptions } from '../src/http/rate-limit/limits.js';
import type { ResponseCacheOptions } from '../src/http/response-cache/plugin.js';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../src/platform/config.js';
import type { PubSub } from '../src/platform/pubsub.js';
import type { WebhookSettings } from '../src/resolvers/tasks/webhooks.js';
import {
  closeTopicSettings,
  createTopicSettings,
  LOCAL_REPORTS,
  type TopicSettings,
} from '../src/resolvers/topics/settings.js';
import { taskFinishedStep } from '../src/workers/index.js';
import type { TaskDefinition, TaskRegistry } from '../src/workers/task-registry.js';
import { serviceTaskRegistry } from '../src/workers/tasks/index.js';

export interface BenchService {
  topicSettings: TopicSettings;
  webhooks: WebhookSettings;
  registry: TaskRegistry;
  close(): Promise<void>;
}

export async function benchService(
  extraTasks: readonly TaskDefinition[] = [],
): Promise<BenchService> {
  // The benchmarks measure planning and serving, not the limiter's refusals.
  const topicSettings = await createTopicSettings({
    reports: { ...LOCAL_REPORTS, planRateLimitPerMinute: 1_000_000 },
  });
  const webhooks = {
    secret: DEVELOPMENT_WEBHOOK_SECRET,
    allowPrivateTargets: true,
    timeoutMs: 10_000,
  };
  return {
    topicSettings,
    webhooks,
    registry: serviceTaskRegistry({ topicSettings, webhooks }, extraTasks),
    close: () => closeTopicSettings(topicSettings),
  };
}

/** An API app on `pubsub`, and how to close what it was made with (not the pub/sub). */
export async function benchApp(
  adminApiKey: string,
  pubsub: PubSub,
  responseCache?: ResponseCacheOptions,
  rateLimits?: RateLimitOptions,
): Promise<{ app: App; service: BenchService; close(): Promise<void> }> {
  const service = await benchService();
  const { topicSettings, webhooks, registry } = service;
  const app = createApp({
    adminApiKey,
    pubsub,
    topicSettings,
    webhooks,
    taskFinished: taskFinishedStep(registry, pubsub),
    responseCache,
    rateLimits,
  });
  return {
    app,
    service,
    async close() {
      app.close();
      await service.close();
    },
  };
}
