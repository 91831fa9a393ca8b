// The task types this service runs: the list the engine registers. Each type is defined (its
// spec and its handler) by the domain that owns it, under its tasks/.
import type { LlmGateway } from '../../llm/gateway.js';
import type { TaskDefinition } from '../../queue/task-definition.js';
import { coverageRefreshTask } from '../../services/coverage/tasks/refresh.js';
import type { ServiceMetrics } from '../../services/metrics.js';
import { pluginEndpointOwners } from '../../services/plugins/integration-delivery.js';
import type { TopicSettings } from '../../services/topics/settings.js';
import { reportGenerationTask } from '../../services/topics/tasks/report-generation.js';
import type { WebhookSettings } from '../../services/webhooks/delivery.js';
import { webhookDeliveryTask } from '../../services/webhooks/tasks/delivery.js';
import {
  DEFAULT_WORKFLOW_SETTINGS,
  type WorkflowSettings,
} from '../../services/workflows/settings.js';
import { workflowReplanTask } from '../../services/workflows/tasks/replan.js';
import { workflowStepTask } from '../../services/workflows/tasks/step.js';
import { taskRegistry, type TaskRegistry } from '../task-registry.js';

export interface ServiceTaskSettings {
  /** Its writer writes report sections; its planner replans workflows. */
  llm: Pick<LlmGateway, 'writer' | 'planner' | 'catalog' | 'metering' | 'keyring' | 'router'>;
  /** The replanner's budget. */
  topicSettings: Pick<TopicSettings, 'planBudgetMs'>;
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
  const { llm, topicSettings } = settings;
  const queueMetrics = settings.metrics?.queue;
  return taskRegistry([
    coverageRefreshTask,
    workflowStepTask({
      llm,
      workflows,
      queueMetrics,
      plugins: {
        get keyring() {
          return llm.keyring;
        },
        webhooks: settings.webhooks,
        chat: (service) => llm.router.chat(service),
      },
    }),
    workflowReplanTask({ llm, topicSettings, workflows, queueMetrics }),
    reportGenerationTask(llm, { webhooks: settings.webhooks, metrics: queueMetrics }),
    webhookDeliveryTask(
      settings.webhooks,
      llm,
      settings.metrics?.webhooks,
      pluginEndpointOwners(settings.webhooks, llm),
    ),
    ...extra,
  ]);
}
