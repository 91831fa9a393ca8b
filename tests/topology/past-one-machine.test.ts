// The whole topology of docs/operations.md, "Past one machine", on the real engines: a private
// PostgreSQL primary with a streaming replica, PgBouncer (transaction mode) in front of the
// primary, a Redis Cluster of three masters with a replica each; two API and two worker
// processes through all of it. Then a Redis master is killed. (Sentinel's failover has its
// own file, redis-sentinel.test.ts: a service runs on a cluster or on Sentinel, not both.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CreateTaxonomyMutation, IngestDocumentsMutation } from '../client/operations.js';
import { GENERATE, PLAN, TOPIC } from '../topics/fixture.js';
import { DOCUMENTS, subtreeKeys, TAXONOMY_NODES } from '../utils/corpus.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { pgbouncerAvailable, startPgBouncer } from '../utils/pgbouncer.js';
import {
  privatePostgresAvailable,
  startPrivatePostgres,
  startPrivateReplica,
  type PrivatePostgres,
} from '../utils/private-postgres.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { samplesOf, scrape } from '../utils/prometheus.js';
import { expectWholeLog, followTask, type ServiceOnRedis } from '../utils/redis-failover.js';
import {
  redisTopologyMissing,
  startRedisCluster,
  type RedisClusterFixture,
} from '../utils/redis-topology.js';

import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const missing =
  (!pgbouncerAvailable && 'pgbouncer is not installed') ||
  (!privatePostgresAvailable && 'no PostgreSQL binaries') ||
  redisTopologyMissing;

const REFRESH = `mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: true }) { task { id } } }`;
const SEARCH = `query($id: ID!, $q: String!) { queryAgent(agentId: $id, query: $q) { totalResults } }`;
const CREATE_AGENT = `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }`;

describe.skipIf(missing)(`past one machine${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let primary: PrivatePostgres;
  let replica: PrivatePostgres;
  let cluster: RedisClusterFixture;
  let direct: pg.Client;
  let service: ServiceOnRedis;
  let agentId: string;

  beforeAll(async () => {
    primary = await startPrivatePostgres();
    const url = await primary.createDatabase('topology');
    replica = await startPrivateReplica(primary);
    const bouncer = await startPgBouncer(h, url, { poolSize: 3 });
    cluster = await startRedisCluster(h);
    const common = {
      DATABASE_URL: bouncer.url,
      DATABASE_POOLER: 'pgbouncer',
      DIRECT_DATABASE_URL: url,
      DATABASE_POOL_MAX: '6',
      DATABASE_REPLICA_URLS: replica.url('topology'),
      DATABASE_REPLICA_MAX_LAG_MS: '5000',
      REDIS_CLUSTER_NODES: cluster.env,
      ADMIN_API_KEY: h.adminKey,
      LOAD_DEMO_DATA: 'false',
      HOST: '127.0.0.1',
    };
    const apis: string[] = [];
    for (let i = 0; i < 2; i++) {
      const api = spawnServiceProcess(
        h,
        { ...common, ROLE: 'api', PORT: '0' },
        /"port":(\d+)[^\n]*API listening/,
      );
      apis.push(`http://127.0.0.1:${/"port":(\d+)/.exec(await api.ready)![1]}`);
    }
    const startWorker = async () => {
      const worker = spawnServiceProcess(
        h,
        { ...common, ROLE: 'worker', WORKER_HTTP_PORT: '0', TASK_POLL_MS: '100' },
        /worker probes listening/,
      );
      await worker.ready;
      return worker;
    };
    await Promise.all([startWorker(), startWorker()]);
    service = {
      apis: apis as [string, string],
      startWorker,
      call: (api, query, variables = {}) =>
        graphql<any>(fetch, query, variables, { key: h.adminKey, url: `${apis[api]}/graphql` }),
    };
    direct = new pg.Client({ connectionString: url });
    await direct.connect();
  }, 180_000);

  afterAll(async () => {
    await direct?.end();
    await replica?.destroy();
    await primary?.destroy();
  });

  const refresh = async (api: 0 | 1) => {
    const enqueued = await service.call(api, REFRESH, { id: agentId });
    expect(enqueued.errors).toBeUndefined();
    return enqueued.data.refreshCoverage.task.id as string;
  };

  it('creates and finds at once, refreshes on a worker, follows it elsewhere, writes a report', async () => {
    const taxonomy = await service.call(0, CreateTaxonomyMutation as never, {
      input: { version: 'top-v1', name: 'Topology', nodes: TAXONOMY_NODES },
    });
    expect(taxonomy.errors).toBeUndefined();
    const nodeIds = Object.fromEntries(
      taxonomy.data.createTaxonomy.nodes.map((n: { key: string; id: string }) => [n.key, n.id]),
    );
    const created = await service.call(1, CREATE_AGENT, {
      input: { name: 'Everywhere', taxonomyVersion: 'top-v1', taxonomyNodeIds: [nodeIds.tech] },
    });
    expect(created.errors).toBeUndefined();
    agentId = created.data.createAgentFromTaxonomy.id;
    // Each document, then a search for it at once on the other process: the writer's reads
    // wait for its own writes, whichever replica or primary serves them.
    for (const [i, doc] of DOCUMENTS.entries()) {
      const ingested = await service.call((i % 2) as 0 | 1, IngestDocumentsMutation as never, {
        taxonomyVersion: 'top-v1',
        documents: [
          {
            title: doc.title,
            content: doc.content,
            taxonomyNodeIds: doc.nodes.map((k) => nodeIds[k]),
            source: doc.key,
          },
        ],
      });
      expect(ingested.errors).toBeUndefined();
      if (!doc.nodes.some((key) => subtreeKeys('tech').includes(key))) continue; // not the agent's
      const word = doc.content.split(/\W+/).find((w) => w.length > 6)!;
      const found = await service.call(((i + 1) % 2) as 0 | 1, SEARCH, { id: agentId, q: word });
      expect(found.errors).toBeUndefined();
      expect(found.data.queryAgent.totalResults, `"${word}" after ${doc.key}`).toBeGreaterThan(0);
    }

    const taskId = await refresh(0);
    const followed = followTask(h, service, 1, taskId);
    await followed.done;
    expectWholeLog(followed);

    const planned = await service.call(1, PLAN, { input: { agentId, topic: 'Gradient methods' } });
    expect(planned.errors).toBeUndefined();
    const topicId = planned.data.planTopic.topic.id;
    const generated = await service.call(0, GENERATE, {
      input: { topicId, plan: planned.data.planTopic.plan },
    });
    expect(generated.errors).toBeUndefined();
    await waitFor(async () => {
      const topic = await service.call(1, TOPIC, { id: topicId });
      expect(topic.errors).toBeUndefined();
      return topic.data.topic.status === 'COMPLETED' || undefined;
    }, 'the report');

    // Reads did go to the replica (once it had the writer's last write).
    await waitFor(async () => {
      await service.call(0, SEARCH, { id: agentId, q: 'gradient' });
      const samples = await scrape(`${service.apis[0]}/metrics`);
      const reads = samplesOf(samples, 'db_reads_total', { target: 'replica-0' });
      return (reads[0]?.value ?? 0) > 0 || undefined;
    }, 'a read served by the replica');
  }, 90_000);

  it('loses no acknowledged task and keeps feeds going when a Redis master dies', async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < 4; i++) acknowledged.push(await refresh((i % 2) as 0 | 1));
    const owner = await cluster.masterOf(`${h.pubsubPrefix}agentUpdated:all`);
    await cluster.processes.get(owner)!.kill('SIGKILL');
    for (let i = 0; i < 4; i++) acknowledged.push(await refresh((i % 2) as 0 | 1));
    await cluster.untilHealthy();
    const last = await refresh(0);
    acknowledged.push(last);
    const followed = followTask(h, service, 1, last);
    await followed.done;
    expectWholeLog(followed);
    await waitFor(async () => {
      const { rows } = await direct.query<{ done: number }>(
        `SELECT count(*)::int AS done FROM tasks WHERE id = ANY($1) AND status = 'COMPLETED'`,
        [acknowledged.map(rowId)],
      );
      return rows[0]!.done === acknowledged.length || undefined;
    }, 'every acknowledged task completed');
  }, 90_000);
});
