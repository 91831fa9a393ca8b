// Reads on a streaming replica with read-your-writes: a private primary and its replica
// (initdb, pg_basebackup -R), two API processes sharing writers' positions through Redis.
// The replica's replay is paused to make it lag on purpose (docs/operations.md, "Read replicas").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CreateAgentMutation, CreateTaxonomyMutation } from '../client/operations.js';
import { TAXONOMY_NODES } from '../utils/corpus.js';
import { graphql } from '../utils/graphql.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import {
  privatePostgresAvailable,
  startPrivatePostgres,
  startPrivateReplica,
  type PrivatePostgres,
} from '../utils/private-postgres.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { samplesOf, scrape } from '../utils/prometheus.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
const AGENTS = `{ agents(first: 100) { edges { node { name } } } }`;

describe.skipIf(!privatePostgresAvailable || !redisAvailable)('read replicas', () => {
  let primary: PrivatePostgres;
  let replica: PrivatePostgres;
  let replicaAdmin: pg.Client;
  const apis: string[] = [];
  let bobKey: string;
  let nodeIds: Record<string, string>;
  const call = (api: number, key: string, query: unknown, variables?: Record<string, unknown>) =>
    graphql<any>(fetch, query as string, variables, { key, url: `${apis[api]}/graphql` });
  const names = async (api: number, key: string) => {
    const listed = await call(api, key, AGENTS);
    expect(listed.errors).toBeUndefined();
    return listed.data.agents.edges.map((edge: { node: { name: string } }) => edge.node.name);
  };
  const createAgent = async (api: number, name: string) => {
    const created = await call(api, h.adminKey, CreateAgentMutation, {
      input: { name, taxonomyVersion: 'rep-v1', taxonomyNodeIds: [nodeIds.tech] },
    });
    expect(created.errors).toBeUndefined();
  };

  beforeAll(async () => {
    primary = await startPrivatePostgres();
    const url = await primary.createDatabase('replicated');
    replica = await startPrivateReplica(primary);
    replicaAdmin = new pg.Client({ connectionString: replica.url('replicated') });
    // The third process skips a replica 300 ms behind.
    for (const maxLagMs of ['60000', '60000', '300']) {
      const started = spawnServiceProcess(
        h,
        {
          ROLE: 'api',
          PORT: '0',
          HOST: '127.0.0.1',
          DATABASE_URL: url,
          DATABASE_REPLICA_URLS: replica.url('replicated'),
          DATABASE_REPLICA_MAX_LAG_MS: maxLagMs,
          REDIS_URL: h.redisUrl!,
          ADMIN_API_KEY: h.adminKey,
          LOAD_DEMO_DATA: 'false',
        },
        /"port":(\d+)[^\n]*API listening/,
      );
      apis.push(`http://127.0.0.1:${/"port":(\d+)/.exec(await started.ready)![1]}`);
    }
    // Cut when the replica stops in the last test.
    replicaAdmin.on('error', () => undefined);
    await replicaAdmin.connect();
    const minted = await call(
      0,
      h.adminKey,
      'mutation { createApiKey(input: { user: "bob", name: "b", scopes: [READ, WRITE] }) { key } }',
    );
    expect(minted.errors).toBeUndefined();
    bobKey = minted.data.createApiKey.key;
    const taxonomy = await call(0, h.adminKey, CreateTaxonomyMutation, {
      input: { version: 'rep-v1', name: 'Replicated', nodes: TAXONOMY_NODES },
    });
    expect(taxonomy.errors).toBeUndefined();
    nodeIds = Object.fromEntries(
      taxonomy.data.createTaxonomy.nodes.map((n: { key: string; id: string }) => [n.key, n.id]),
    );
  }, 120_000);

  afterAll(async () => {
    await replicaAdmin?.end();
    await replica?.destroy();
    await primary?.destroy();
  });

  it('shows a caller its own write at once, on either process, while others read the replica', async () => {
    await createAgent(0, 'before-pause');
    // Bob sees it once the replica has it (he wrote nothing: any replica serves him).
    await waitFor(
      async () => (await names(1, bobKey)).includes('before-pause') || undefined,
      'replayed',
    );

    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    try {
      await createAgent(0, 'while-paused');
      // The writer reads its write on the other API process: the replica lacks it, so the primary.
      for (const api of [1, 0]) expect(await names(api, h.adminKey)).toContain('while-paused');
      // Bob's reads went to the replica, which has not replayed it: he does not see it yet.
      expect(await names(1, bobKey)).toContain('before-pause');
      expect(await names(1, bobKey)).not.toContain('while-paused');
    } finally {
      await replicaAdmin.query('SELECT pg_wal_replay_resume()');
    }
    await waitFor(
      async () => (await names(1, bobKey)).includes('while-paused') || undefined,
      'replayed',
    );

    const samples = await scrape(`${apis[1]}/metrics`);
    const reads = (target: string) =>
      samplesOf(samples, 'db_reads_total', { target }).reduce((sum, s) => sum + s.value, 0);
    expect(reads('replica-0')).toBeGreaterThan(0);
    expect(reads('primary')).toBeGreaterThan(0);
    expect(samplesOf(samples, 'db_replica_up', { replica: 'replica-0' })[0]?.value).toBe(1);
  });

  it('skips a replica further behind than DATABASE_REPLICA_MAX_LAG_MS', async () => {
    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    try {
      await createAgent(0, 'lagging');
      // Past 300 ms behind (and a poll), the third process reads Bob's list on the primary;
      // the first two still take the replica, which lacks the agent.
      await waitFor(async () => {
        const samples = await scrape(`${apis[2]}/metrics`);
        const lag = samplesOf(samples, 'db_replica_lag_seconds', { replica: 'replica-0' })[0];
        return (lag && lag.value > 0.3) || undefined;
      }, 'the replica seen lagging');
      expect(await names(2, bobKey)).toContain('lagging');
      expect(await names(1, bobKey)).not.toContain('lagging');
    } finally {
      await replicaAdmin.query('SELECT pg_wal_replay_resume()');
    }
  });

  it('reads from the primary while the replica is down, and stays ready', async () => {
    await replica.stop();
    try {
      await createAgent(1, 'replica-down');
      expect(await names(0, bobKey)).toContain('replica-down');
      expect((await fetch(`${apis[0]}/ready`)).status).toBe(200);
      await waitFor(async () => {
        const samples = await scrape(`${apis[0]}/metrics`);
        return (
          samplesOf(samples, 'db_replica_up', { replica: 'replica-0' })[0]?.value === 0 || undefined
        );
      }, 'the replica seen down');
    } finally {
      await replica.start();
    }
    await replicaAdmin.end().catch(() => undefined);
    await waitFor(async () => {
      const samples = await scrape(`${apis[0]}/metrics`);
      return (
        samplesOf(samples, 'db_replica_up', { replica: 'replica-0' })[0]?.value === 1 || undefined
      );
    }, 'the replica back');
  });
});
