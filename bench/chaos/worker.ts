// A chaos worker: the service's worker (src/workers/index.ts) in its own process, configured
// from the environment as ROLE=worker is, with the chaos task type added.
import { loadConfig } from '../../src/platform/config.js';
import { connectDatabase } from '../../src/platform/db.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { benchService } from '../service.js';
import { chaosStepTask } from './tasks.js';
import { serveUntilTerminated } from '../worker-lifecycle.js';

const config = loadConfig({ ...process.env, ROLE: 'worker' });
connectDatabase(config.databaseUrl!, { poolSize: 5 });
const pubsub = createPubSub(config.redis, config.pubsubPrefix);
const service = await benchService([chaosStepTask]);
const worker = await startServiceWorker({
  tasks: config.tasks,
  pubsub,
  registry: service.registry,
  workflows: config.workflows,
});
serveUntilTerminated(worker, service, pubsub);
