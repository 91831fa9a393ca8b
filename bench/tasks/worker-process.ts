// A benchmark worker in its own OS process: the real engine running the bench task types.
import { loadConfig } from '../../src/platform/config.js';
import { connectDatabase, disconnectDatabase } from '../../src/platform/db.js';
import { setHeapGrowingPercent } from '../../src/platform/heap-growth.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { taskRegistry } from '../../src/workers/task-registry.js';
import { startWorker } from '../../src/workers/worker.js';
import { benchTaskDefinitions } from './noop.js';

setHeapGrowingPercent(
  loadConfig({ HEAP_GROWING_PERCENT: process.env.HEAP_GROWING_PERCENT }).heapGrowingPercent,
); // as ROLE=worker does
connectDatabase(process.env.DATABASE_URL!, { poolSize: Number(process.env.POOL_SIZE ?? 10) });
const pubsub = createPubSub(
  process.env.REDIS_URL || undefined,
  process.env.PUBSUB_PREFIX ?? 'bench:',
);
if (process.env.LOG_PUBLISHED) {
  // For the fan-out bench: when each task event was published (after its commit).
  const publish = pubsub.publish.bind(pubsub);
  pubsub.publish = (async (
    topic: string,
    key: string,
    payload: { taskId?: string; sequence?: number },
  ) => {
    if (topic === 'taskEvents')
      console.log(`published ${payload.taskId} ${payload.sequence} ${Date.now()}`);
    return publish(topic as never, key, payload as never);
  }) as typeof pubsub.publish;
  const publishMany = pubsub.publishMany.bind(pubsub);
  pubsub.publishMany = (async (
    topic: string,
    messages: ReadonlyArray<readonly [string, { taskId?: string; sequence?: number }]>,
  ) => {
    if (topic === 'taskEvents')
      for (const [, payload] of messages)
        console.log(`published ${payload.taskId} ${payload.sequence} ${Date.now()}`);
    return publishMany(topic as never, messages as never);
  }) as typeof pubsub.publishMany;
}
// The service's task engine settings as ROLE=worker reads them (WORKER_CONCURRENCY,
// TASK_BATCH_SIZE, TASK_POLL_MS, …; unset: the defaults sized to this machine).
const config = loadConfig({ ...process.env, NODE_ENV: 'development', ROLE: 'worker' });
const worker = await startWorker({
  ...config.tasks,
  pubsub,
  registry: taskRegistry(benchTaskDefinitions),
});
console.log(`ready ${worker.id}`);
// A signal handler returns nothing: the shutdown runs on its own and exits when done.
async function shutDown(): Promise<void> {
  await worker.stop(1_000);
  await pubsub.close();
  await disconnectDatabase();
  process.exit(0);
}
process.on('SIGTERM', () => void shutDown());
