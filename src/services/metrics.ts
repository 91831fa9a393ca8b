// What the services count, made once per process registry (by main, or by createApp when
// given none) and passed down like the other deps: the tasks they enqueue, the webhook
// deliveries the worker makes, the LLM calls of planning and writing (their `model` label
// bounded: llm/model-label.ts).
import type { Registry } from 'prom-client';
import { createQueueMetrics, type QueueMetrics } from '../queue/queue-metrics.js';
import { withBoundedModels } from '../llm/model-label.js';
import { createWebhookMetrics, type WebhookMetrics } from './webhooks/metrics.js';
import { createLlmMetrics, type LlmMetrics } from '../llm/metrics.js';

export interface ServiceMetrics {
  queue: QueueMetrics;
  webhooks: WebhookMetrics;
  llm: LlmMetrics;
}

/** Registers the families on `registry`: once per registry (prom-client refuses a second). */
export function createServiceMetrics(registry: Registry): ServiceMetrics {
  return {
    queue: createQueueMetrics(registry),
    webhooks: createWebhookMetrics(registry),
    llm: withBoundedModels(createLlmMetrics(registry)),
  };
}
