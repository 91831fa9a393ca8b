// A worker in its own OS process (for crash and cross-process tests), started as
// src/main.ts starts one (startServiceWorker, the service's task registry) with the test task
// types and fast timings. Prints "ready <id>" once it is claiming.
import { DEVELOPMENT_WEBHOOK_SECRET } from '../../src/platform/webhook-defaults.js';
import { connectDatabase, disconnectDatabase } from '../../src/platform/db.js';
import { databaseEnv } from '../../src/platform/config-database.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { openResponseStore } from '../../src/platform/response-cache/invalidation.js';
import { dropChangedResponses } from '../../src/http/response-cache/changes.js';
import { publishLiveInvalidations } from '../../src/http/live-query/announce.js';
import { createLlmGateway } from '../../src/llm/gateway.js';
import { closeTopicSettings, createTopicSettings } from '../../src/services/topics/settings.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import { FAST_TASK_ENGINE, testTaskDefinitions } from './test-tasks.js';

connectDatabase(process.env.DATABASE_URL!, {
  poolSize: 4,
  idleInTransactionTimeoutMs: databaseEnv.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS.parse(
    process.env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  ),
});
const pubsub = createPubSub(
  process.env.REDIS_URL || undefined,
  process.env.PUBSUB_PREFIX ?? 'test:',
);
// With Redis it drops what its tasks change from the shared response cache, as main.ts does.
const responseStore = process.env.REDIS_URL
  ? await openResponseStore(process.env.REDIS_URL, process.env.PUBSUB_PREFIX ?? 'test:', {
      ttlMs: 60_000,
      ttlPerCoordinate: {},
    })
  : undefined;
const llm = await createLlmGateway({ pubsub });
const topicSettings = await createTopicSettings();
const stopDropping = responseStore && dropChangedResponses(responseStore.store);
// What its tasks change reaches the API processes' live queries, as main.ts does.
const stopPublishing = publishLiveInvalidations(pubsub);
const webhooks = {
  secret: DEVELOPMENT_WEBHOOK_SECRET,
  allowPrivateTargets: true,
  timeoutMs: 2_000,
  maxAttempts: 4,
  retryDelaysMs: [100, 200, 400],
  retentionDays: 30,
};
const registry = serviceTaskRegistry({ llm, topicSettings, webhooks }, testTaskDefinitions);
const worker = await startServiceWorker({ tasks: FAST_TASK_ENGINE, pubsub, registry });
console.log(`ready ${worker.id}`);
// A signal handler returns nothing: the shutdown runs on its own and exits when done.
async function shutDown(): Promise<void> {
  await worker.stop(1_000);
  await llm.close();
  await closeTopicSettings(topicSettings);
  stopDropping?.();
  stopPublishing();
  await responseStore?.close();
  await pubsub.close();
  await disconnectDatabase();
  process.exit(0);
}
process.on('SIGTERM', () => void shutDown());
