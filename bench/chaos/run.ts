// `npm run chaos`: 1 API and 3 worker processes on one PostgreSQL and a private Redis, loopback
// only. CHAOS_TASKS tasks (a few hundred ms each) are enqueued; every CHAOS_KILL_EVERY_MS a
// random worker is SIGKILLed and replaced, and Redis is SIGKILLed once and restarted. Sample
// tasks are followed by graphql-sse subscribers through the API. Prints tasks lost, stuck,
// run twice, event-log gaps, and kill → reclaim → rerun times; exits 1 when a target is missed
// (0, 0, 0, 0; rerun within 2 × TASK_LEASE_MS). Bounded by CHAOS_DEADLINE_S.
import { createClient } from 'graphql-sse';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { openFreshBenchDatabase } from '../database.js';
import { heading } from '../stats.js';
import { benchAgent } from '../tasks/fixture.js';
import { killUntilDone, startCluster } from './cluster.js';
import { report } from './report.js';
import {
  ADMIN_KEY,
  DEADLINE_S,
  KILL_EVERY_MS,
  LEASE_MS,
  SUBSCRIBERS,
  TASKS,
  TERMINAL,
  WORKERS,
} from './settings.js';
import { chaosStep } from './tasks.js';

/** Sample tasks followed through the API: each subscriber must see every sequence, in order, to the end. */
function followThroughApi(
  apiPort: number,
  ids: string[],
): { seen: Map<string, number[]>; done: Promise<unknown>; close(): void } {
  const seen = new Map<string, number[]>();
  const sse = createClient({
    url: `http://127.0.0.1:${apiPort}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    retryAttempts: 20,
  });
  const followed = ids.slice(0, SUBSCRIBERS).map(
    (id) =>
      new Promise<void>((resolve) => {
        const sequences: number[] = [];
        seen.set(id, sequences);
        sse.subscribe<{ taskProgress: { sequence: number } }>(
          {
            query:
              'subscription($id: ID!) { taskProgress(taskId: $id, afterSequence: 0) { sequence status } }',
            variables: { id: toGlobalId('Task', id) },
          },
          {
            next: (result) => result.data && sequences.push(result.data.taskProgress.sequence),
            error: () => resolve(),
            complete: () => resolve(),
          },
        );
      }),
  );
  return {
    seen,
    done: Promise.race([Promise.all(followed), sleep(10_000)]),
    close: () => sse.dispose(),
  };
}

export async function runChaos(): Promise<boolean> {
  const database = await openFreshBenchDatabase('agent_growth_chaos');
  connectDatabase(database.url, { poolSize: 5 });
  const cluster = await startCluster(database.url);
  const pubsub = createRedisPubSub(cluster.redisUrl, 'chaos:');
  try {
    const { agentId, ownerId } = await benchAgent();
    const agentRowId = Buffer.from(agentId, 'base64').toString().split(':')[1]!;
    heading(
      `chaos (${TASKS} tasks, 1 API + ${WORKERS} workers, a worker SIGKILLed every ${KILL_EVERY_MS} ms, Redis SIGKILLed once, lease ${LEASE_MS} ms)`,
    );
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const { task } = await enqueue(
        chaosStep,
        { payload: { agentId: agentRowId, ms: 200 + ((i * 37) % 400) }, ownerId, teamId: null },
        { pubsub },
      );
      ids.push(task.id);
    }
    const followers = followThroughApi(cluster.apiPort, ids);
    const kills = await killUntilDone(
      cluster,
      () => db().task.count({ where: { id: { in: ids }, status: { notIn: TERMINAL as never } } }),
      KILL_EVERY_MS,
      Date.now() + DEADLINE_S * 1_000,
    );
    await followers.done;
    followers.close();
    return await report(ids, kills, followers.seen);
  } finally {
    cluster.stop();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

// CHAOS_SCENARIOS: tasks,workflows,database (default all), each on its own database and processes.
async function runScenarios(): Promise<boolean> {
  const scenarios = (process.env.CHAOS_SCENARIOS ?? 'tasks,workflows,database').split(',');
  let met = true;
  if (scenarios.includes('tasks')) met = (await runChaos()) && met;
  if (scenarios.includes('workflows'))
    met = (await (await import('./workflows.js')).runWorkflowChaos()) && met;
  if (scenarios.includes('database'))
    met = (await (await import('./database.js')).runDatabaseChaos()) && met;
  return met;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runScenarios().then(
    (met) => process.exit(met ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
