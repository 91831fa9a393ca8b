// The API and worker of a benchmark, made as src/main.ts makes them: the local text provider
// (with the plan limit out of the way), development webhooks, the service's task registry
// (plus the bench's own types) and its after-finish step.
import { createApp, type App } from '../src/http/app.js';
import type { RateLimitOptions } from '../src/http/rate-limit/limits.js';
import type { ResponseCacheOptions } from '../src/http/response-cache/plugin.js';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../src/platform/webhook-defaults.js';
import type { PubSub } from '../src/platform/pubsub.js';
import type { WebhookSettings } from '../src/services/webhooks/delivery.js';
import { createLlmGateway, type LlmGateway } from '../src/llm/gateway.js';
import {
  closeTopicSettings,
  createTopicSettings,
  type TopicSettings,
} from '../src/services/topics/settings.js';
import { taskFinishedStep } from '../src/workers/index.js';
import type { TaskDefinition } from '../src/queue/task-definition.js';
import type { TaskRegistry } from '../src/workers/task-registry.js';
import { serviceTaskRegistry } from '../src/workers/tasks/index.js';

export interface BenchService {
  llm: LlmGateway;
  topicSettings: TopicSettings;
  webhooks: WebhookSettings;
  registry: TaskRegistry;
  close(): Promise<void>;
}

export async function benchService(
  extraTasks: readonly TaskDefinition[] = [],
): Promise<BenchService> {
  // The benchmarks measure planning and serving, not the limiter's refusals.
  const llm = await createLlmGateway();
  const topicSettings = await createTopicSettings({ planRateLimitPerMinute: 1_000_000 });
  const webhooks = {
    secret: DEVELOPMENT_WEBHOOK_SECRET,
    allowPrivateTargets: true,
    timeoutMs: 10_000,
    maxAttempts: 4,
    retryDelaysMs: [100, 200, 400],
    retentionDays: 30,
  };
  return {
    llm,
    topicSettings,
    webhooks,
    registry: serviceTaskRegistry({ llm, topicSettings, webhooks }, extraTasks),
    async close() {
      await llm.close();
      await closeTopicSettings(topicSettings);
    },
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
  const { llm, topicSettings, webhooks, registry } = service;
  const app = createApp({
    adminApiKey,
    pubsub,
    llm,
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
