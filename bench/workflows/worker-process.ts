// A workflow benchmark worker in its own OS process: the service's worker (workflow_step,
// workflow_replan, ...) plus the bench's no-op type, as src/main.ts starts one. With
// LOG_PUBLISHED it prints when each workflowEvents notification is handed to pub/sub.
import { connectDatabase } from '../../src/platform/db.js';
import { preTouchYoungGeneration } from '../../src/platform/heap-growth.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { logPublished } from '../published-log.js';
import { benchService } from '../service.js';
import { benchTaskDefinitions } from '../tasks/noop.js';
import { serveUntilTerminated } from '../worker-lifecycle.js';

preTouchYoungGeneration(); // as ROLE=worker does
connectDatabase(process.env.DATABASE_URL!, { poolSize: Number(process.env.POOL_SIZE ?? 10) });
const pubsub = createPubSub(
  process.env.REDIS_URL || undefined,
  process.env.PUBSUB_PREFIX ?? 'bench:',
);
if (process.env.LOG_PUBLISHED)
  logPublished(pubsub, 'workflowEvents', (key, event) => `published ${key} ${event.sequence}`);
const service = await benchService(benchTaskDefinitions);
const worker = await startServiceWorker({
  tasks: {
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? 8),
    batchSize: Number(process.env.TASK_BATCH_SIZE ?? 32),
    maxLeaseLosses: 3,
    maxPostponements: 3,
    leaseMs: Number(process.env.TASK_LEASE_MS ?? 10_000),
    heartbeatMs: 1_000,
    pollMs: Number(process.env.TASK_POLL_MS ?? 1_000),
    endHoldMs: Number(process.env.TASK_END_HOLD_MS ?? 3),
    backoffBaseMs: 200,
    backoffMaxMs: 5_000,
    retentionMs: 86_400_000,
    failedRetentionMs: 7 * 86_400_000,
    deadRetentionMs: 30 * 86_400_000,
    historyRetentionDays: 90,
    artifactRetentionCount: 20,
  },
  pubsub,
  registry: service.registry,
  workflows: {
    ...DEFAULT_WORKFLOW_SETTINGS,
    reconcileMs: Number(process.env.WORKFLOW_RECONCILE_MS ?? 5_000),
  },
});
serveUntilTerminated(worker, service, pubsub);
