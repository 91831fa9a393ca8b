// The task types this service runs. Each type's spec lives with the domain that enqueues it;
// its handler lives here, one file per type.
import type { ReportWriter } from '../../reports/providers/types.js';
import type { WebhookMetrics } from '../../resolvers/tasks/webhook-metrics.js';
import type { WebhookSettings } from '../../resolvers/tasks/webhooks.js';
import { taskRegistry, type TaskDefinition, type TaskRegistry } from '../task-registry.js';
import { coverageRefreshTask } from './coverage-refresh.js';
import { reportGenerationTask } from './report-generation.js';
import { webhookDeliveryTask } from './webhook-delivery.js';

export interface ServiceTaskSettings {
  /** Its writer writes report sections (the configured text provider). */
  topicSettings: { writer: ReportWriter };
  webhooks: WebhookSettings;
  /** Counts delivery attempts by outcome (webhook_deliveries_total); unset: not counted. */
  webhookMetrics?: WebhookMetrics;
}

/** The service's task types, and `extra` ones (the tests' own). */
export function serviceTaskRegistry(
  settings: ServiceTaskSettings,
  extra: readonly TaskDefinition[] = [],
): TaskRegistry {
  return taskRegistry([
    coverageRefreshTask,
    reportGenerationTask(settings.topicSettings),
    webhookDeliveryTask(settings.webhooks, settings.webhookMetrics),
    ...extra,
  ]);
}
