// The worker as the process runs it: the task engine with this service's task types,
// webhooks queued after tasks end, and the retention clean-up.
import type { Config } from '../config.js';
import { db } from '../db.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { deleteExpiredHistory } from '../resolvers/history.js';
import { afterTaskFinished } from '../resolvers/tasks.js';
import { reconcileStuckTopics } from '../resolvers/topic-progress.js';
import { deleteFinishedTasks } from './sql/delete-finished.js';
import { taskDefinitions } from './tasks/index.js';
import type { WorkerMetrics } from './metrics.js';
import { startWorker, type RunningWorker } from './worker.js';

export function startServiceWorker(config: Pick<Config, 'tasks'>, pubsub: PubSub, metrics?: WorkerMetrics): Promise<RunningWorker> {
  return startWorker({
    ...config.tasks,
    pubsub,
    metrics,
    definitions: taskDefinitions,
    onFinished: (task) => afterTaskFinished(task, pubsub),
    maintenance: async () => {
      const tasks = await deleteFinishedTasks(db(), config.tasks.retentionMs);
      const history = await deleteExpiredHistory(config.tasks.historyRetentionDays);
      await reconcileStuckTopics(pubsub);
      if (tasks || history) logger.info({ tasks, history }, 'retention clean-up');
    },
  });
}
