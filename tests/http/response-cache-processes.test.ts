// A stale read never follows a committed change, across processes: changes are made through
// the API in this process (and a coverage refresh by a worker in its own process), and read
// at once from a second API process (src/main.ts, RESPONSE_CACHE on) that shares the cache
// through Redis, while readers keep asking it the same query (so a reader that started before
// a change is the one most likely to write the cache after it).
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { spawnServiceProcess, spawnWorkerProcess } from '../utils/processes.js';
import { AGENT_NAME, RENAME, createAgent, overHttp, read } from '../utils/response-cache.js';
import { mint } from '../utils/teams.js';

import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

/** Keeps asking the other process `query` until stopped; resolves with how many answers were hits. */
function hammer(url: string, query: string, variables: Record<string, unknown>) {
  let running = true;
  const loop = async () => {
    let hits = 0;
    while (running) {
      const answer = await read(overHttp, h.adminKey, query, variables, url);
      if (answer.xCache === 'HIT') hits++;
    }
    return hits;
  };
  const readers = [loop(), loop()];
  return async () => {
    running = false;
    return (await Promise.all(readers)).reduce((a, b) => a + b, 0);
  };
}

describe.skipIf(!redisAvailable)('response cache across processes', () => {
  let other: string;
  beforeAll(async () => {
    await h.startApp({ pubsub: 'redis', responseCache: {} });
    const api = spawnServiceProcess(
      h,
      {
        ROLE: 'api',
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_KEY: h.adminKey,
        REDIS_URL: h.redisUrl!,
        RESPONSE_CACHE: 'true',
        LOAD_DEMO_DATA: 'false',
      },
      /"port":(\d+)[^\n]*API listening/,
    );
    other = `http://127.0.0.1:${/"port":(\d+)/.exec(await api.ready)![1]}/graphql`;
    await spawnWorkerProcess(h, { redisUrl: h.redisUrl }).ready;
    expect((await read(overHttp, h.adminKey, '{ viewer { user } }', {}, other)).status).toBe(200);
  }, 60_000);

  it('answers every rename at once from the other process, readers or not', async () => {
    const id = await createAgent(h, h.adminKey, 'n-start');
    const stop = hammer(other, AGENT_NAME, { id });
    for (let i = 0; i < 40; i++) {
      expect((await h.gql(RENAME, { id, name: `n-${i}` })).errors).toBeUndefined();
      const answer = await read(overHttp, h.adminKey, AGENT_NAME, { id }, other);
      expect(answer.data.agent.name, `read after rename ${i} (${answer.xCache})`).toBe(`n-${i}`);
    }
    const hits = await stop();
    // The readers were answered from the cache between the changes: it was in use.
    expect(hits).toBeGreaterThan(0);
    await read(overHttp, h.adminKey, AGENT_NAME, { id }, other);
    expect((await read(overHttp, h.adminKey, AGENT_NAME, { id }, other)).xCache).toBe('HIT');
  });

  it('does not keep the answer of a read that started before a change and ended after it', async () => {
    const id = await createAgent(h, h.adminKey, 'before');
    const query = `query($id: ID!) { agent(id: $id) { name coverageHistory(first: 1) { totalCount } } }`;
    // The read loads the agent, then waits for coverage_history, locked here, while the
    // rename commits and drops the cached answers; then the read ends and offers its answer.
    const lock = new pg.Client({ connectionString: h.databaseUrl });
    await lock.connect();
    try {
      await lock.query('BEGIN; LOCK TABLE coverage_history IN ACCESS EXCLUSIVE MODE');
      const slow = read(overHttp, h.adminKey, query, { id }, other);
      // Asked outside the locking transaction: pg_stat_activity is a snapshot per transaction.
      await waitFor(async () => {
        const waiting = await db().$queryRaw<unknown[]>`
          SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
            AND wait_event_type = 'Lock' AND query ILIKE '%coverage_history%'`;
        return waiting.length > 0;
      }, 'the read to wait for the lock');
      expect((await h.gql(RENAME, { id, name: 'after' })).errors).toBeUndefined();
      await lock.query('ROLLBACK');
      const started = await slow;
      expect(started).toMatchObject({ xCache: 'MISS', data: { agent: { name: 'before' } } });
    } finally {
      await lock.end();
    }
    const next = await read(overHttp, h.adminKey, query, { id }, other);
    expect(next).toMatchObject({ xCache: 'MISS', data: { agent: { name: 'after' } } });
    expect((await read(overHttp, h.adminKey, query, { id }, other)).xCache).toBe('HIT');
  });

  it('answers an agent’s coverage anew once a worker’s refresh task has completed', async () => {
    const id = await createAgent(h, h.adminKey, 'refreshed');
    const coverage = `query($id: ID!) { agent(id: $id) { coveragePercent lastCoverageUpdate coverageHistory(first: 1) { totalCount } } }`;
    const refresh = `mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: true }) { task { id } } }`;
    const status = `query($id: ID!) { task(id: $id) { status } }`;
    const stop = hammer(other, coverage, { id });
    for (let round = 1; round <= 5; round++) {
      const enqueued = await h.gql(refresh, { id });
      expect(enqueued.errors).toBeUndefined();
      const taskId = enqueued.data.refreshCoverage.task.id;
      await waitFor(async () => {
        const task = await h.gql(status, { id: taskId });
        return task.data.task.status === 'COMPLETED';
      }, `refresh ${round}`);
      const answer = await read(overHttp, h.adminKey, coverage, { id }, other);
      const truth = await db().agent.findUniqueOrThrow({ where: { id: rowId(id) } });
      expect(answer.data.agent, `after refresh ${round} (${answer.xCache})`).toEqual({
        coveragePercent: truth.coveragePercent,
        lastCoverageUpdate: truth.lastCoverageUpdate!.toISOString(),
        coverageHistory: { totalCount: round },
      });
    }
    await stop();
  });

  it('answers a template’s rating anew at once from the other process', async () => {
    const created = await h.gql(
      `mutation { createTemplate(input: { name: "across", category: DOCS, content: "x", isPublic: true }) { id } }`,
    );
    const id = created.data.createTemplate.id;
    const one = `query($id: ID!) { template(id: $id) { ratingAverage ratingCount } }`;
    const rate = `mutation($id: ID!, $stars: Int!) { rateTemplate(id: $id, stars: $stars) { id } }`;
    const stop = hammer(other, one, { id });
    for (let i = 0; i < 8; i++) {
      const rater = await mint(h, `across-rater-${i}`, ['WRITE']);
      expect((await h.gql(rate, { id, stars: (i % 5) + 1 }, rater.key)).errors).toBeUndefined();
      const truth = await db().template.findUniqueOrThrow({ where: { id: rowId(id) } });
      const answer = await read(overHttp, h.adminKey, one, { id }, other);
      expect(answer.data.template, `after rating ${i} (${answer.xCache})`).toEqual({
        ratingAverage: truth.ratingAverage,
        ratingCount: i + 1,
      });
    }
    await stop();
  });
});
