// `npm run bench -- workflows`: the workflow figures beside same-run baselines, and
// every target printed as met or not met. In this process: plan checks, the local plan, the
// fan-out and fan-in commits, cancel; with worker processes: throughput against bare tasks,
// the step hop, and workflowProgress at 1,000 subscribers on this process's API.
import { defaultTaskEngineSizes } from '../../src/platform/config.js';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { createAgent } from '../../src/services/agents/agents.js';
import { createTaxonomy } from '../../src/services/taxonomy/taxonomy.js';
import { databaseNow, openFreshBenchDatabase } from '../database.js';
import { listenBenchApp } from '../http-server.js';
import { loadAverage, machine } from '../machine.js';
import { benchApp } from '../service.js';
import { heading, line } from '../stats.js';
import {
  benchCancel,
  benchFanIn,
  benchFanOut,
  benchLocalPlan,
  benchValidation,
} from './commits.js';
import { benchWorkflows, type BenchWorkflows } from './fixture.js';
import { benchLive } from './live.js';
import { benchReruns } from './reruns.js';
import { printTargets, type Target } from './targets.js';
import { benchHop, benchThroughput, spawnWorkers } from './throughput.js';

const ADMIN_KEY = 'bench-admin-key-0123456789';
const PROCESSES = Number(process.env.BENCH_WORKFLOW_PROCESSES ?? 2);
const CONCURRENCY = Number(process.env.BENCH_WORKFLOW_CONCURRENCY ?? 8);
/** BENCH_WORKFLOWS_THROUGHPUT_ONLY=1: the steps against bare tasks, nothing else (a minute). */
const THROUGHPUT_ONLY = process.env.BENCH_WORKFLOWS_THROUGHPUT_ONLY === '1';

async function eightAgents(flows: BenchWorkflows): Promise<string[]> {
  const taxonomy = await createTaxonomy(
    { version: 'bench-flow', name: 'Bench', nodes: [{ key: 'root', label: 'Root' }] },
    flows.caller,
  );
  const { id: nodeId } = await db().taxonomyNode.findFirstOrThrow({
    where: { taxonomyId: taxonomy.id },
  });
  const ids: string[] = [];
  for (const name of [
    'Compliance',
    'Security',
    'Legal',
    'Finance',
    'Privacy',
    'Operations',
    'Research',
    'Support',
  ])
    ids.push(
      (
        await createAgent(
          { name, taxonomyVersion: 'bench-flow', taxonomyNodeIds: [nodeId] },
          flows.caller,
        )
      ).id,
    );
  return ids;
}

export async function benchWorkflowsRun(): Promise<void> {
  const database = await openFreshBenchDatabase('agent_growth_bench_workflows');
  connectDatabase(database.url, { poolSize: 10 });
  const redisUrl = process.env.REDIS_URL;
  const prefix = `bench:workflows:${Date.now()}:`;
  const pubsub = createPubSub(redisUrl, prefix);
  const { app, service, close: closeApp } = await benchApp(ADMIN_KEY, pubsub);
  const server = await listenBenchApp(app);
  const flows = await benchWorkflows(pubsub, service);
  const targets: Target[] = [];
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl ?? '',
    PUBSUB_PREFIX: prefix,
    WORKER_CONCURRENCY: String(CONCURRENCY),
  };
  let workers = spawnWorkers(env, 0);
  try {
    await machine();
    heading('workflows');
    line('pub/sub', redisUrl ? `Redis ${redisUrl}` : 'in process only (workers poll)');
    if (!THROUGHPUT_ONLY) {
      await benchValidation(targets);
      await benchLocalPlan(flows, await eightAgents(flows), targets);
      await benchFanOut(service.registry, flows, targets);
      await benchFanIn(service.registry, flows, targets);
      await benchCancel(flows, targets);
    }
    line('load average (in-process part)', loadAverage());
    const since = await databaseNow();
    workers = spawnWorkers(env, PROCESSES);
    await Promise.all(workers.map((worker) => worker.waitFor(/^ready /m)));
    await benchThroughput(flows, `${PROCESSES} worker processes x ${CONCURRENCY} slots`, targets);
    line('load average (throughput)', loadAverage());
    await Promise.all(workers.map((worker) => worker.stop()));
    // One process at the engine's defaults (slots and batch sized to the CPUs): what `npm start`
    // runs. Printed beside the target's figures, not checked.
    const sizes = defaultTaskEngineSizes();
    const defaults = {
      ...env,
      WORKER_CONCURRENCY: String(sizes.concurrency),
      TASK_BATCH_SIZE: String(sizes.batchSize),
    };
    workers = spawnWorkers(defaults, 1);
    await workers[0]!.waitFor(/^ready /m);
    await benchThroughput(
      flows,
      `1 worker process x ${sizes.concurrency} slots, batch ${sizes.batchSize}: the defaults`,
    );
    line('load average (throughput at the defaults)', loadAverage());
    await Promise.all(workers.map((worker) => worker.stop()));
    if (!THROUGHPUT_ONLY) {
      workers = spawnWorkers({ ...env, LOG_PUBLISHED: '1' }, 1);
      await workers[0]!.waitFor(/^ready /m);
      await benchHop(flows, targets);
      await benchLive(`${server.baseUrl}/graphql/stream`, ADMIN_KEY, flows, workers[0]!, targets);
      line('load average (hop, live)', loadAverage());
    }
    await benchReruns(since, targets);
    heading('workflow targets');
    printTargets(targets);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await server.close();
    await closeApp();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}
