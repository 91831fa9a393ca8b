// The response cache when its Redis fails or a change races a read, on a private redis-server
// the test kills, stops (SIGSTOP: alive but silent) and brings back: answers never wait on a
// silent Redis, nothing stale is served after a drop Redis did not take, and
// extensions.responseCache.didCache says whether the answer was really kept.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { createRedisClient } from '../../src/platform/redis.js';
import { createResponseStore } from '../../src/platform/response-cache/store.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { redisServerAvailable, startPrivateRedis } from '../utils/processes.js';
import { AGENT_NAME, RENAME, createAgent, read } from '../utils/response-cache.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
const AGENTS = `{ agents(first: 50) { totalCount edges { node { id name } } } }`;

/** An app whose response cache is on a redis-server of the test's own (as main opens it). */
async function appOnPrivateRedis() {
  const redis = await startPrivateRedis(h);
  const client = await createRedisClient(redis.url, 'response-cache-faults', {
    commandTimeoutMs: 500,
  });
  h.onCleanup(() => void client.disconnect());
  const store = createResponseStore(client, {
    prefix: `${h.pubsubPrefix}faults:`,
    tagTtlMs: 60_000,
  });
  const app = await h.startApp({ pubsub: 'redis', responseCache: { store } });
  return { redis, app };
}

describe.skipIf(!redisAvailable || !redisServerAvailable)('response cache faults', () => {
  it('says an answer was not kept (didCache: false) and serves none while Redis is away, then keeps them again', async () => {
    const { redis, app } = await appOnPrivateRedis();
    const id = await createAgent(h, h.adminKey, 'away');
    expect((await read(app.fetch, h.adminKey, AGENT_NAME, { id })).extension).toEqual({
      hit: false,
      didCache: true,
      ttl: 60_000,
    });
    expect((await read(app.fetch, h.adminKey, AGENT_NAME, { id })).xCache).toBe('HIT');
    await redis.kill('SIGKILL');
    for (let i = 0; i < 2; i++) {
      const away = await read(app.fetch, h.adminKey, AGENTS);
      expect(away).toMatchObject({ xCache: 'MISS', extension: { hit: false, didCache: false } });
      expect(away.data.agents.totalCount).toBeGreaterThan(0);
    }
    await startPrivateRedis(h, redis.port);
    await waitFor(
      async () => (await read(app.fetch, h.adminKey, AGENTS)).extension?.didCache === true,
      'an answer kept once Redis is back',
    );
    expect((await read(app.fetch, h.adminKey, AGENTS)).xCache).toBe('HIT');
  });

  it('answers reads and mutations while Redis hangs, and serves nothing stale once it answers again', async () => {
    const { redis, app } = await appOnPrivateRedis();
    const id = await createAgent(h, h.adminKey, 'before the hang');
    await read(app.fetch, h.adminKey, AGENT_NAME, { id });
    expect((await read(app.fetch, h.adminKey, AGENT_NAME, { id })).xCache).toBe('HIT');
    redis.process.kill('SIGSTOP');
    try {
      // Each of these waited for Redis to answer again (the test would time out here).
      const renamed = await read(app.fetch, h.adminKey, RENAME, { id, name: 'during the hang' });
      expect(renamed.data.updateAgent.name).toBe('during the hang');
      const during = await read(app.fetch, h.adminKey, AGENT_NAME, { id });
      expect(during).toMatchObject({ xCache: 'MISS', extension: { didCache: false } });
      expect(during.data.agent.name).toBe('during the hang');
    } finally {
      redis.process.kill('SIGCONT');
    }
    // The rename's drop never reached Redis: the answer kept before it is never served again.
    const after = await read(app.fetch, h.adminKey, AGENT_NAME, { id });
    expect(after.data.agent.name).toBe('during the hang');
    expect(after.xCache).toBe('MISS');
    await waitFor(
      async () => (await read(app.fetch, h.adminKey, AGENT_NAME, { id })).xCache === 'HIT',
      'the answer kept again',
    );
    expect((await read(app.fetch, h.adminKey, AGENT_NAME, { id })).data.agent.name).toBe(
      'during the hang',
    );
  });

  it('says didCache: false for a read that a change overtook (its answer is not kept)', async () => {
    const { app } = await appOnPrivateRedis();
    const id = await createAgent(h, h.adminKey, 'old name');
    const query = `query($id: ID!) { agent(id: $id) { name } topics(first: 1) { totalCount } }`;
    // The read waits on a lock on topics, after it has missed; the rename commits meanwhile.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const lock = db().$transaction(
      async (tx) => {
        await tx.$executeRaw`LOCK TABLE topics IN ACCESS EXCLUSIVE MODE`;
        locked();
        await held;
      },
      { timeout: 30_000 },
    );
    await lockTaken;
    const slow = read(app.fetch, h.adminKey, query, { id });
    await waitFor(
      async () =>
        (
          await db().$queryRaw<[{ n: number }]>`
            SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE NOT l.granted AND c.relname = 'topics'`
        )[0].n > 0,
      'the read waiting on the lock',
    );
    expect((await read(app.fetch, h.adminKey, RENAME, { id, name: 'new name' })).errors).toBe(
      undefined,
    );
    release();
    await lock;
    const overtaken = await slow;
    expect(overtaken.data.agent.name).toBe('old name');
    expect(overtaken).toMatchObject({ xCache: 'MISS', extension: { didCache: false } });
    const next = await read(app.fetch, h.adminKey, query, { id });
    expect(next).toMatchObject({ xCache: 'MISS', extension: { didCache: true } });
    expect(next.data.agent.name).toBe('new name');
  });
});
