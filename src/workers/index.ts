// The worker as the service runs it, in production (src/main.ts) and in the tests alike: the
// engine with the service's task types, what follows a task's end, and the retention clean-up.
import { announceChanges } from '../platform/changes.js';
import type { TaskEngineConfig } from '../platform/config.js';
import { db } from '../platform/db.js';
import { logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { deleteExpiredHistory } from '../services/coverage/history.js';
import { deleteExpiredWebhooks } from '../services/webhooks/retention.js';
import { taskSubscribers } from '../services/webhooks/subscribers.js';
import { emitTaskEnded } from '../services/webhooks/task-events.js';
import { workflowReplan, workflowStep } from '../services/workflows/tasks/specs.js';
import {
  batchedWorkflowEnds,
  notifyWorkflowEnds,
  workflowOfTask,
} from '../services/workflows/webhooks.js';
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
import { pruneWorkers, WORKER_RETENTION_MS } from '../queue/prune-workers.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import type { WebhookSettings } from '../services/webhooks/delivery.js';
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
  /** Attempts per webhook message and how long messages are kept; default the spec's and 30 days. */
  webhooks?: WebhookEmitSettings;
}

/** What the worker's webhook messages need from WebhookSettings. */
export type WebhookEmitSettings = Pick<WebhookSettings, 'maxAttempts' | 'retentionDays'>;

const WORKFLOW_TASKS: ReadonlySet<string> = new Set([workflowStep.name, workflowReplan.name]);

/**
 * What follows a task's end, wherever it ends (a worker, or the API for a task cancelled
 * before it ran): its type's after-finish step, then its webhook messages (queued), the end
 * of the workflow a step or replan task ended, if it did, and the end announced (live queries
 * that read the task run again).
 */
export function taskFinishedStep(
  registry: TaskRegistry,
  pubsub: PubSub,
  queueMetrics?: QueueMetrics,
  webhooks?: WebhookEmitSettings,
): (task: ClaimedTaskRow) => Promise<void> {
  const deps = { pubsub, webhooks, metrics: queueMetrics, subscribers: taskSubscribers() };
  const workflowStepEnded = batchedWorkflowEnds(deps);
  return async (task) => {
    await registry.get(task.type)?.onFinished?.(task, pubsub);
    // A rowless end (a step recorded on its step alone) is no task anyone can read or be told of.
    if (!task.rowless) await emitTaskEnded(task, deps);
    const workflowId = WORKFLOW_TASKS.has(task.type) ? workflowOfTask(task.payload) : undefined;
    if (workflowId) workflowStepEnded(workflowId);
    if (!task.rowless) await announceChanges({ kind: 'task.ended', taskId: task.id });
  };
}

export async function startServiceWorker(options: ServiceWorkerOptions): Promise<RunningWorker> {
  const worker = await startEngine(options);
  const workflows = options.workflows ?? DEFAULT_WORKFLOW_SETTINGS;
  const deps = { pubsub: options.pubsub, settings: workflows, queueMetrics: options.queueMetrics };
  // What a killed process left between commits is repaired within a few periods.
  const webhookDeps = {
    pubsub: options.pubsub,
    webhooks: options.webhooks,
    metrics: options.queueMetrics,
  };
  const reconciler = setInterval(() => {
    void notifyWorkflowEnds(null, webhookDeps);
    reconcileWorkflows(deps, undefined, options.tasks.maxLeaseLosses).catch((err) =>
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
  webhooks,
}: ServiceWorkerOptions): Promise<RunningWorker> {
  return startWorker({
    ...tasks,
    pubsub,
    metrics,
    registry,
    onFinished: taskFinishedStep(registry, pubsub, queueMetrics, webhooks),
    maintenance: () => retentionCleanUp(tasks, pubsub, webhooks?.retentionDays),
  });
}

/**
 * The workers' periodic clean-up: what outlived its retention (workers silent for an hour and
 * their claim counts among it), and topics left GENERATING.
 */
export async function retentionCleanUp(
  tasks: TaskEngineConfig,
  pubsub: PubSub,
  /** WEBHOOK_RETENTION_DAYS. */
  webhookRetentionDays = 30,
): Promise<void> {
  const deletedTasks = await deleteFinishedTasks(db(), tasks);
  const history = await deleteExpiredHistory(tasks.historyRetentionDays);
  const artifacts = await trimArtifactHistory(tasks.artifactRetentionCount);
  const webhooks = await deleteExpiredWebhooks(db(), webhookRetentionDays);
  const workers = await pruneWorkers(db(), WORKER_RETENTION_MS);
  await reconcileStuckTopics(pubsub);
  if (deletedTasks || history || artifacts || webhooks || workers)
    logger.info(
      { tasks: deletedTasks, history, artifacts, webhooks, workers },
      'retention clean-up',
    );
}
