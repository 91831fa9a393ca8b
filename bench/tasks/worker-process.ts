// A benchmark worker in its own OS process: the real engine running the bench task types.
import { loadConfig } from '../../src/platform/config.js';
import { connectDatabase } from '../../src/platform/db.js';
import { preTouchYoungGeneration, setHeapGrowingPercent } from '../../src/platform/heap-growth.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { taskRegistry } from '../../src/workers/task-registry.js';
import { startWorker } from '../../src/workers/worker.js';
import { logPublished } from '../published-log.js';
import { benchTaskDefinitions } from './noop.js';
import { serveUntilTerminated } from '../worker-lifecycle.js';

setHeapGrowingPercent(
  loadConfig({ HEAP_GROWING_PERCENT: process.env.HEAP_GROWING_PERCENT }).heapGrowingPercent,
); // as ROLE=worker does, and:
preTouchYoungGeneration();
connectDatabase(process.env.DATABASE_URL!, { poolSize: Number(process.env.POOL_SIZE ?? 10) });
const pubsub = createPubSub(
  process.env.REDIS_URL || undefined,
  process.env.PUBSUB_PREFIX ?? 'bench:',
);
// For the fan-out bench: when each task event was published (after its commit).
if (process.env.LOG_PUBLISHED)
  logPublished(pubsub, 'taskEvents', (_, event) => `published ${event.taskId} ${event.sequence}`);
// The service's task engine settings as ROLE=worker reads them (WORKER_CONCURRENCY,
// TASK_BATCH_SIZE, TASK_POLL_MS, …; unset: the defaults sized to this machine).
const config = loadConfig({ ...process.env, NODE_ENV: 'development', ROLE: 'worker' });
const worker = await startWorker({
  ...config.tasks,
  pubsub,
  registry: taskRegistry(benchTaskDefinitions),
});
serveUntilTerminated(worker, pubsub);
