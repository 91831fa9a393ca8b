// The worker as the service runs it, in production (src/main.ts) and in the tests alike: the
// engine with the service's task types, what follows a task's end, and the retention clean-up.
import type { TaskEngineConfig } from '../platform/config.js';
import { db } from '../platform/db.js';
import { logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { deleteExpiredHistory } from '../services/coverage/history.js';
import { queueWebhookDelivery } from '../services/webhooks/tasks/delivery.js';
import { reconcileStuckTopics } from '../services/topics/progress.js';
import { trimArtifactHistory } from '../services/topics/artifact-history.js';
import { reconcileWorkflows } from '../services/workflows/reconcile.js';
import {
  DEFAULT_WORKFLOW_SETTINGS,
  type WorkflowSettings,
} from '../services/workflows/settings.js';
import type { WorkerMetrics } from './metrics.js';
import type { QueueMetrics } from '../queue/queue-metrics.js';
import { deleteFinishedTasks } from '../queue/delete-finished.js';
import type { TaskRow } from '../queue/task-row.js';
import type { TaskRegistry } from './task-registry.js';
import { startWorker, type RunningWorker } from './worker.js';

export interface ServiceWorkerOptions {
  tasks: TaskEngineConfig;
  pubsub: PubSub;
  registry: TaskRegistry;
  metrics?: WorkerMetrics;
  /** Counts the webhook deliveries this worker queues and the step tasks its reconciler dispatches. */
  queueMetrics?: QueueMetrics;
  /** The workflow reconciler's period and the token price; default DEFAULT_WORKFLOW_SETTINGS. */
  workflows?: WorkflowSettings;
}

/**
 * What follows a task's end, wherever it ends (a worker, or the API for a task cancelled
 * before it ran): its type's after-finish step, then the delivery of its webhook (queued).
 */
export function taskFinishedStep(
  registry: TaskRegistry,
  pubsub: PubSub,
  queueMetrics?: QueueMetrics,
): (task: TaskRow) => Promise<void> {
  return async (task) => {
    await registry.get(task.type)?.onFinished?.(task, pubsub);
    await queueWebhookDelivery(task, pubsub, queueMetrics);
  };
}

export async function startServiceWorker(options: ServiceWorkerOptions): Promise<RunningWorker> {
  const worker = await startEngine(options);
  const workflows = options.workflows ?? DEFAULT_WORKFLOW_SETTINGS;
  const deps = { pubsub: options.pubsub, settings: workflows, queueMetrics: options.queueMetrics };
  // What a killed process left between commits is repaired within a few periods.
  const reconciler = setInterval(() => {
    reconcileWorkflows(deps).catch((err) =>
      logger.warn(
        { err: (err as Error).message },
        'workflow reconcile failed; the next round retries',
      ),
    );
  }, workflows.reconcileMs);
  reconciler.unref();
  return {
    id: worker.id,
    async stop(graceMs) {
      clearInterval(reconciler);
      await worker.stop(graceMs);
    },
  };
}

function startEngine({
  tasks,
  pubsub,
  registry,
  metrics,
  queueMetrics,
}: ServiceWorkerOptions): Promise<RunningWorker> {
  return startWorker({
    ...tasks,
    pubsub,
    metrics,
    registry,
    onFinished: taskFinishedStep(registry, pubsub, queueMetrics),
    maintenance: () => retentionCleanUp(tasks, pubsub),
  });
}

/** The workers' periodic clean-up: what outlived its retention, and topics left GENERATING. */
export async function retentionCleanUp(tasks: TaskEngineConfig, pubsub: PubSub): Promise<void> {
  const deletedTasks = await deleteFinishedTasks(db(), tasks);
  const history = await deleteExpiredHistory(tasks.historyRetentionDays);
  const artifacts = await trimArtifactHistory(tasks.artifactRetentionCount);
  await reconcileStuckTopics(pubsub);
  if (deletedTasks || history || artifacts)
    logger.info({ tasks: deletedTasks, history, artifacts }, 'retention clean-up');
}
