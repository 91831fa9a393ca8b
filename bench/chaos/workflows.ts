// The chaos run's workflow scenario: CHAOS_WORKFLOWS workflows × 40 steps on 1 API
// and 3 workers; a worker SIGKILLed every CHAOS_KILL_EVERY_MS, Redis SIGKILLed once; sample
// workflows followed through the API with graphql-sse. Fails unless steps lost, results
// committed twice, visible effects duplicated or missing, stuck workflows and subscriber gaps
// are all 0.
import { createClient } from 'graphql-sse';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { updateWorkflowPlan } from '../../src/services/workflows/edit.js';
import { planWorkflow } from '../../src/services/workflows/plan.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { startWorkflow } from '../../src/services/workflows/start.js';
import { operatorCaller } from '../../src/services/auth/caller.js';
import { defaultTeamId } from '../../src/services/auth/default-team.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { openFreshBenchDatabase } from '../database.js';
import { benchService } from '../service.js';
import { heading } from '../stats.js';
import { benchAgent } from '../tasks/fixture.js';
import { killUntilDone, startCluster } from './cluster.js';
import { ADMIN_KEY, DEADLINE_S, KILL_EVERY_MS, LEASE_MS, WORKERS } from './settings.js';
import { chaosPlan } from './workflow-plans.js';
import { workflowReport } from './workflow-report.js';

export const WORKFLOWS = Number(process.env.CHAOS_WORKFLOWS ?? 50);
const FOLLOWED = Math.min(10, WORKFLOWS);
const PROGRESS =
  'subscription($id: ID!) { workflowProgress(workflowId: $id, afterSequence: 0) { sequence kind status } }';

function followThroughApi(apiPort: number, ids: string[]) {
  const seen = new Map<string, number[]>();
  const sse = createClient({
    url: `http://127.0.0.1:${apiPort}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    retryAttempts: 20,
  });
  const followed = ids.slice(0, FOLLOWED).map(
    (id) =>
      new Promise<void>((resolve) => {
        const sequences: number[] = [];
        seen.set(id, sequences);
        sse.subscribe<{ workflowProgress: { sequence: number } }>(
          { query: PROGRESS, variables: { id: toGlobalId('Workflow', id) } },
          {
            next: (r) => r.data && sequences.push(r.data.workflowProgress.sequence),
            error: () => resolve(),
            complete: () => resolve(),
          },
        );
      }),
  );
  return {
    seen,
    done: Promise.race([Promise.all(followed), sleep(15_000)]),
    close: () => sse.dispose(),
  };
}

async function createWorkflows(
  pubsub: ReturnType<typeof createRedisPubSub>,
  agentId: string,
): Promise<string[]> {
  const service = await benchService();
  const owner = await db().user.findUniqueOrThrow({ where: { name: 'admin' } });
  const caller = operatorCaller(owner, await defaultTeamId());
  const deps = {
    pubsub,
    llm: service.llm,
    topicSettings: service.topicSettings,
    workflows: DEFAULT_WORKFLOW_SETTINGS,
    webhooks: service.webhooks,
  };
  const ids: string[] = [];
  try {
    for (let n = 0; n < WORKFLOWS; n++) {
      const id = await planWorkflow(
        { goal: `chaos ${n}`, agentIds: [agentId], maxParallelSteps: 8 },
        caller,
        deps,
      );
      await updateWorkflowPlan(id, 1, chaosPlan(agentId, n), caller, deps);
      ids.push(id);
    }
    for (const id of ids) await startWorkflow(id, 2, null, caller, deps);
  } finally {
    await service.close();
  }
  return ids;
}

export async function runWorkflowChaos(): Promise<boolean> {
  const database = await openFreshBenchDatabase('agent_growth_chaos_workflows');
  connectDatabase(database.url, { poolSize: 5 });
  const cluster = await startCluster(database.url);
  const pubsub = createRedisPubSub(cluster.redisUrl, 'chaos:');
  try {
    const { agentId } = await benchAgent();
    const agentRowId = parseGlobalId('Agent', agentId)!;
    heading(
      `chaos: workflows (${WORKFLOWS} workflows x 40 steps, 1 API + ${WORKERS} workers, a worker SIGKILLed every ${KILL_EVERY_MS} ms, Redis SIGKILLed once, lease ${LEASE_MS} ms)`,
    );
    const ids = await createWorkflows(pubsub, agentRowId);
    const followers = followThroughApi(cluster.apiPort, ids);
    const kills = await killUntilDone(
      cluster,
      () =>
        db().workflow.count({ where: { id: { in: ids }, status: { in: ['PLANNED', 'RUNNING'] } } }),
      KILL_EVERY_MS,
      Date.now() + DEADLINE_S * 1_000,
    );
    await followers.done;
    followers.close();
    return await workflowReport(ids, kills, followers.seen);
  } finally {
    cluster.stop();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}
