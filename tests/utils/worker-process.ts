// A worker in its own OS process (for crash and cross-process tests): the real engine
// with the test task types and fast timings. Prints "ready <id>" once it is claiming.
import { connectDatabase, disconnectDatabase } from '../../src/db.js';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../../src/config.js';
import { createPubSub } from '../../src/pubsub.js';
import { afterTaskFinished } from '../../src/resolvers/tasks.js';
import { configureWebhooks } from '../../src/resolvers/webhooks.js';
import { startWorker } from '../../src/workers/worker.js';
import { FAST_TASK_ENGINE, testTaskDefinitions } from './test-tasks.js';

const databaseUrl = process.env.DATABASE_URL!;
connectDatabase(databaseUrl, { poolSize: 4 });
configureWebhooks({ secret: DEVELOPMENT_WEBHOOK_SECRET, allowPrivateTargets: true, timeoutMs: 2_000 });
const pubsub = createPubSub(process.env.REDIS_URL || undefined, process.env.PUBSUB_PREFIX ?? 'test:');
const worker = await startWorker({
  ...FAST_TASK_ENGINE,
  pubsub,
  definitions: testTaskDefinitions,
  onFinished: (task) => afterTaskFinished(task, pubsub),
});
console.log(`ready ${worker.id}`);
process.on('SIGTERM', async () => {
  await worker.stop(1_000);
  await pubsub.close();
  await disconnectDatabase();
  process.exit(0);
});
