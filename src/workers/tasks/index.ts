// The task types this service runs. Each type's spec lives with the domain that enqueues it;
// its handler lives here, one file per type.
import type { TopicSettings } from '../../resolvers/topics/settings.js';
import {
  DEFAULT_WORKFLOW_SETTINGS,
  type WorkflowSettings,
} from '../../resolvers/workflows/settings.js';
import type { ServiceMetrics } from '../../resolvers/metrics.js';
import type { WebhookSettings } from '../../resolvers/tasks/webhooks.js';
import { taskRegistry, type TaskDefinition, type TaskRegistry } from '../task-registry.js';
import { coverageRefreshTask } from './coverage-refresh.js';
import { reportGenerationTask } from './report-generation.js';
import { webhookDeliveryTask } from './webhook-delivery.js';
import { workflowReplanTask } from './workflow-replan.js';
import { workflowStepTask } from './workflow-step.js';

export interface ServiceTaskSettings {
  /** Its writer writes report sections (the configured text provider); its planner replans workflows. */
  topicSettings: Pick<TopicSettings, 'writer' | 'planner' | 'planBudgetMs' | 'llm'>;
  /** Workflow limits and the token price; default DEFAULT_WORKFLOW_SETTINGS. */
  workflows?: WorkflowSettings;
  webhooks: WebhookSettings;
  /**
   * This process's counts: delivery attempts by outcome (webhook_deliveries_total), the tasks
   * workflow commits enqueue (step tasks, replans: tasks_enqueued_total); unset: not counted.
   */
  metrics?: Pick<ServiceMetrics, 'webhooks' | 'queue'>;
}

/** The service's task types, and `extra` ones (the tests' own). */
export function serviceTaskRegistry(
  settings: ServiceTaskSettings,
  extra: readonly TaskDefinition[] = [],
): TaskRegistry {
  const workflows = settings.workflows ?? DEFAULT_WORKFLOW_SETTINGS;
  const { topicSettings } = settings;
  const queueMetrics = settings.metrics?.queue;
  return taskRegistry([
    coverageRefreshTask,
    workflowStepTask({ topicSettings, workflows, queueMetrics }),
    workflowReplanTask({ topicSettings, workflows, queueMetrics }),
    reportGenerationTask(topicSettings),
    webhookDeliveryTask(settings.webhooks, settings.metrics?.webhooks),
    ...extra,
  ]);
}
