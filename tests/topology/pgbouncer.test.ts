// The service behind PgBouncer in transaction mode (Debian's 1.18, two server connections):
// two API and two worker processes whose DATABASE_URL is PgBouncer, so that consecutive
// transactions of one client connection run on different server connections. A statement
// prepared by name, a session setting or a session lock would fail or leak here
// (docs/operations.md, "Past one machine").
import { describe, expect, it, beforeAll } from 'vitest';
import { db } from '../../src/platform/db.js';
import {
  CreateAgentMutation,
  CreateTaxonomyMutation,
  IngestDocumentsMutation,
} from '../client/operations.js';
import { DOCUMENTS, TAXONOMY_NODES } from '../utils/corpus.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { pgbouncerAvailable, startPgBouncer } from '../utils/pgbouncer.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { GENERATE, PLAN, TOPIC } from '../topics/fixture.js';

const h = useHarness();

const REFRESH = `mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: true }) { task { id } } }`;
const QUERY = `query($id: ID!, $q: String!) { queryAgent(agentId: $id, query: $q) { hits { chunkId } totalResults } }`;
const PROGRESS = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { status sequence } }`;

describe.skipIf(!pgbouncerAvailable)('behind PgBouncer in transaction mode', () => {
  const apis: string[] = [];
  const call = (api: number, query: unknown, variables: Record<string, unknown>) =>
    graphql<any>(fetch, query as string, variables, {
      key: h.adminKey,
      url: `${apis[api]}/graphql`,
    });

  beforeAll(async () => {
    const bouncer = await startPgBouncer(h, h.databaseUrl, { poolSize: 2 });
    const common = {
      DATABASE_URL: bouncer.url,
      DATABASE_POOLER: 'pgbouncer',
      DIRECT_DATABASE_URL: h.databaseUrl,
      DATABASE_POOL_MAX: '6',
      ADMIN_API_KEY: h.adminKey,
      LOAD_DEMO_DATA: 'false',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const started = [0, 1].map(() =>
      spawnServiceProcess(
        h,
        { ...common, ROLE: 'api', PORT: '0', LOG_LEVEL: 'info' },
        /"port":(\d+)[^\n]*API listening/,
      ),
    );
    for (const api of started)
      apis.push(`http://127.0.0.1:${/"port":(\d+)/.exec(await api.ready)![1]}`);
    const workers = [0, 1].map(() =>
      spawnServiceProcess(
        h,
        {
          ...common,
          ROLE: 'worker',
          WORKER_HTTP_PORT: '0',
          TASK_POLL_MS: '100',
          LOG_LEVEL: 'info',
        },
        /worker probes listening/,
      ),
    );
    await Promise.all(workers.map((worker) => worker.ready));
  }, 120_000);

  it('creates, searches, refreshes coverage on a worker and generates a report', async () => {
    const version = 'pgb-v1';
    const taxonomy = await call(0, CreateTaxonomyMutation, {
      input: { version, name: 'Behind PgBouncer', nodes: TAXONOMY_NODES },
    });
    expect(taxonomy.errors).toBeUndefined();
    const nodeIds = Object.fromEntries(
      taxonomy.data.createTaxonomy.nodes.map((n: { key: string; id: string }) => [n.key, n.id]),
    );
    // Each document by the other API process in turn.
    for (const [i, doc] of DOCUMENTS.entries()) {
      const ingested = await call(i % 2, IngestDocumentsMutation, {
        taxonomyVersion: version,
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
    }
    const created = await call(1, CreateAgentMutation, {
      input: { name: 'Pooled', taxonomyVersion: version, taxonomyNodeIds: [nodeIds.tech] },
    });
    expect(created.errors).toBeUndefined();
    const agentId = created.data.createAgentFromTaxonomy.id;

    // Found at once, by either process, many times over (each a new server connection).
    for (let i = 0; i < 20; i++) {
      const found = await call(i % 2, QUERY, { id: agentId, q: 'gradient descent' });
      expect(found.errors).toBeUndefined();
      expect(found.data.queryAgent.totalResults).toBeGreaterThan(0);
    }

    // A refresh enqueued on one API process, run by a worker, followed on the other process.
    const enqueued = await call(0, REFRESH, { id: agentId });
    expect(enqueued.errors).toBeUndefined();
    const taskId = enqueued.data.refreshCoverage.task.id;
    const client = sseClient({ url: `${apis[1]}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    const statuses: string[] = [];
    const feed = listen<any>(client, PROGRESS, { taskId }, (event) => {
      expect(event.errors).toBeUndefined();
      statuses.push(event.data.taskProgress.status);
    });
    await feed.done;
    expect(statuses.at(-1)).toBe('COMPLETED');
    const agent = await db().agent.findFirstOrThrow({ where: { name: 'Pooled' } });
    expect(agent.lastCoverageUpdate).not.toBeNull();

    // A plan and a report: the worker's turns, leases and events, all through PgBouncer.
    const planned = await call(1, PLAN, { input: { agentId, topic: 'Gradient methods' } });
    expect(planned.errors).toBeUndefined();
    const topicId = planned.data.planTopic.topic.id;
    const generated = await call(0, GENERATE, {
      input: { topicId, plan: planned.data.planTopic.plan },
    });
    expect(generated.errors).toBeUndefined();
    const done = await waitFor(async () => {
      const topic = await call(1, TOPIC, { id: topicId });
      expect(topic.errors).toBeUndefined();
      return topic.data.topic.status === 'COMPLETED' ? topic.data.topic : undefined;
    }, 'the report');
    expect(done.artifact.markdown).toContain('#');
  });

  it('runs a hundred tasks across both workers with none lost', async () => {
    const agent = await db().agent.findFirstOrThrow({ where: { name: 'Pooled' } });
    const id = Buffer.from(`Agent:${agent.id}`).toString('base64');
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const enqueued = await call(i % 2, REFRESH, { id });
      expect(enqueued.errors).toBeUndefined();
      ids.push(enqueued.data.refreshCoverage.task.id);
    }
    await waitFor(async () => {
      const counts = await db().task.groupBy({
        by: ['status'],
        where: { type: 'coverage_refresh' },
        _count: true,
      });
      const completed = counts.find((c) => c.status === 'COMPLETED')?._count ?? 0;
      return completed === 101 || undefined;
    }, 'every refresh completed');
    const ran = await db().task.findMany({
      where: { type: 'coverage_refresh' },
      select: { workerId: true, attempts: true },
    });
    // Both workers took part; no task ran twice.
    expect(new Set(ran.map((task) => task.workerId)).size).toBe(2);
    expect(ran.every((task) => task.attempts === 1)).toBe(true);
  });
});
