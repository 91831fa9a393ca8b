// Webhook deliveries on /metrics, counted by the worker that makes them: each attempt by how
// it ended, and how long the receiver took. Outcomes are a fixed set: never the URL, host or
// task, which callers choose.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { WebhookAttempt } from './delivery.js';

export type WebhookOutcomeLabel =
  | 'success'
  | 'http_3xx'
  | 'http_other'
  | 'http_4xx'
  | 'http_5xx'
  | 'timeout'
  | 'network_error'
  | 'refused';

export interface WebhookMetrics {
  attempted(attempt: WebhookAttempt): void;
}

/** How an attempt ended: the receiver's status class, or why no status came back. */
export function webhookOutcomeLabel(attempt: Omit<WebhookAttempt, 'seconds'>): WebhookOutcomeLabel {
  if (attempt.succeeded) return 'success';
  if (attempt.refused) return 'refused';
  const status = attempt.statusCode;
  if (status === null) return /timed out/i.test(attempt.error ?? '') ? 'timeout' : 'network_error';
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  // Redirects are not followed: a receiver answering one is misconfigured (http → https, say).
  return status >= 300 ? 'http_3xx' : 'http_other';
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help:
      'Webhook delivery attempts, by outcome (success, http_3xx, http_4xx, http_5xx, ' +
      'http_other, timeout, network_error, refused).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'How long a webhook delivery attempt took, from the request to the end of the answer, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    attempted(attempt) {
      const outcome = webhookOutcomeLabel(attempt);
      deliveries.inc({ outcome });
      duration.observe({ outcome }, attempt.seconds);
    },
  };
}
