// The pool's settings (DATABASE_POOL_MAX, DATABASE_POOL_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS),
// on a connection of this file's own; and how DATABASE_URL, DIRECT_DATABASE_URL and
// DATABASE_POOLER combine (docs/operations.md, "Past one machine").
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Prisma } from '../../src/generated/prisma/client.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import {
  databasePoolStats,
  db,
  inPoolTransaction,
  inTransaction,
  poolQueryable,
  PREPARED,
  type Queryable,
} from '../../src/platform/db.js';
import { useHarness } from '../utils/harness.js';
import { useOwnPool } from '../utils/own-pool.js';

const h = useHarness();

describe('database settings', () => {
  useOwnPool(h, { poolSize: 1, acquireTimeoutMs: 300, statementTimeoutMs: 250 });

  it('survives a connection ended between two statements of a pooled transaction', async () => {
    const terminator = new pg.Client({ connectionString: h.databaseUrl });
    await terminator.connect();
    try {
      const ended = inPoolTransaction(async (tx) => {
        const [{ pid }] = await tx.client.$queryRaw<
          [{ pid: number }]
        >`SELECT pg_backend_pid() AS pid`;
        // Ended while idle in the transaction: PostgreSQL's FATAL comes with no query to fail.
        await terminator.query('SELECT pg_terminate_backend($1)', [pid]);
        await sleep(200);
        return tx.client.$queryRaw`SELECT 1 AS one`;
      });
      await expect(ended).rejects.toThrow();
    } finally {
      await terminator.end();
    }
    // Given back broken: the pool's one connection is a new one, and works.
    expect(await poolQueryable().$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it('has PostgreSQL cancel a statement past DATABASE_STATEMENT_TIMEOUT_MS', async () => {
    const [setting] = await db().$queryRaw<
      Array<{ statement_timeout: string }>
    >`SHOW statement_timeout`;
    expect(setting!.statement_timeout).toBe('250ms');
    await expect(db().$queryRaw`SELECT pg_sleep(2)`).rejects.toThrow(/statement timeout/);
    // The connection is still good afterwards.
    expect(await db().$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it('refuses a statement that waits past DATABASE_POOL_TIMEOUT_MS for the one connection', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holding = inPoolTransaction(async () => {
      entered();
      await held;
    });
    await inside;
    await expect(poolQueryable().$queryRaw`SELECT 1`).rejects.toThrow(/timeout/i);
    release();
    await holding;
    expect(await poolQueryable().$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it("runs a pooled transaction's prepared statements on their generic plan from the first run", async () => {
    // A statement of this test's own, on this file's own pool: not run on it before.
    const plans = await inPoolTransaction(async ({ client }) => {
      for (let i = 0; i < 3; i++)
        await client.$queryRaw`${PREPARED} SELECT count(*)::int AS generic_probe FROM tasks WHERE id = ${'00000000-0000-0000-0000-000000000000'}::uuid`;
      return client.$queryRaw<Array<{ generic: number; custom: number }>>`
        SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements
        WHERE strpos(statement, 'AS generic_probe FROM tasks') > 0`;
    });
    // Left to choose, PostgreSQL plans each of the first five runs for its values.
    expect(plans).toContainEqual({ generic: 3, custom: 0 });
    // Outside such a transaction the session's own setting holds.
    const [mode] = await poolQueryable().$queryRaw<
      [{ plan_cache_mode: string }]
    >`SHOW plan_cache_mode`;
    expect(mode.plan_cache_mode).toBe('auto');
  });

  it('tells apart prepared statements of one length and one ending', async () => {
    // The statement names are looked up by a text's length and end first: these two share
    // both and differ in the middle only, so each must still run as itself.
    const tail = `AS probe_value, '${'x'.repeat(200)}' AS padding`;
    const [first, second, names] = await inPoolTransaction(async ({ client }) => {
      const one = await client.$queryRaw<
        Array<{ probe_value: number }>
      >`${PREPARED} SELECT 1::int ${Prisma.raw(tail)}`;
      const two = await client.$queryRaw<
        Array<{ probe_value: number }>
      >`${PREPARED} SELECT 2::int ${Prisma.raw(tail)}`;
      const prepared = await client.$queryRaw<Array<{ name: string }>>`
        SELECT name FROM pg_prepared_statements WHERE strpos(statement, 'AS probe_value') > 0`;
      return [one, two, prepared];
    });
    expect(first).toEqual([expect.objectContaining({ probe_value: 1 })]);
    expect(second).toEqual([expect.objectContaining({ probe_value: 2 })]);
    expect(new Set(names.map((each) => each.name)).size).toBe(2);
  });

  it('reads the pooler settings, and needs a direct URL behind PgBouncer', () => {
    const direct = 'postgresql://app@db:5432/app';
    expect(loadConfig({ DATABASE_URL: direct }).database).toEqual({
      directUrl: direct,
      pooler: 'none',
      poolMax: 10,
      poolTimeoutMs: 3_000,
      poolMin: 2,
      poolIdleMs: 10_000,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 60_000,
      replicaUrls: [],
      replicaMaxLagMs: 1_000,
    });
    expect(
      loadConfig({
        DATABASE_URL: direct,
        DATABASE_REPLICA_URLS: 'postgresql://app@r1/app, postgresql://app@r2/app',
        DATABASE_REPLICA_MAX_LAG_MS: '250',
      }).database,
    ).toMatchObject({
      replicaUrls: ['postgresql://app@r1/app', 'postgresql://app@r2/app'],
      replicaMaxLagMs: 250,
    });
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'mysql://x' })).toThrow(
      /DATABASE_REPLICA_URLS/,
    );
    const pooled = 'postgresql://app@bouncer:6432/app';
    expect(() => loadConfig({ DATABASE_URL: pooled })).toThrow(/DIRECT_DATABASE_URL: required/);
    expect(
      loadConfig({ DATABASE_URL: pooled, DIRECT_DATABASE_URL: direct }).database,
    ).toMatchObject({
      directUrl: direct,
      pooler: 'pgbouncer',
    });
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_POOLER: 'none' }).database.pooler).toBe(
      'none',
    );
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://app@bouncer:5432/app',
        DATABASE_POOLER: 'pgbouncer',
        DIRECT_DATABASE_URL: direct,
        DATABASE_POOL_MAX: '4',
        DATABASE_POOL_TIMEOUT_MS: '500',
        DATABASE_POOL_MIN: '8',
        DATABASE_POOL_IDLE_MS: '60000',
        DATABASE_STATEMENT_TIMEOUT_MS: '30000',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0',
      }).database,
    ).toMatchObject({
      pooler: 'pgbouncer',
      poolMax: 4,
      poolTimeoutMs: 500,
      // Never more kept than the pool may open.
      poolMin: 4,
      poolIdleMs: 60_000,
      statementTimeoutMs: 30_000,
      idleInTransactionTimeoutMs: 0,
    });
    expect(() => loadConfig({ DATABASE_POOLER: 'pgpool' })).toThrow(/DATABASE_POOLER/);
    expect(() => loadConfig({ DATABASE_POOL_MIN: '-1' })).toThrow(/DATABASE_POOL_MIN/);
  });
});

/**
 * A transaction (`inOne`: which kind) that holds the default team's row, then waits as a
 * stopped process would (no statement for 800 ms): another session can lock the row only once
 * PostgreSQL has ended the idle transaction, which then fails rather than commit.
 */
async function expectIdleTransactionEnded(
  inOne: (work: (client: Queryable) => Promise<unknown>) => Promise<unknown>,
): Promise<void> {
  const other = new pg.Client({ connectionString: h.databaseUrl });
  await other.connect();
  const lockable = async () =>
    (await other.query(`SELECT id FROM teams WHERE slug = 'default' FOR UPDATE SKIP LOCKED`))
      .rowCount;
  let locked!: () => void;
  const held = new Promise<void>((resolve) => (locked = resolve));
  try {
    const settled = inOne(async (client) => {
      await client.$queryRaw`SELECT id FROM teams WHERE slug = 'default' FOR UPDATE`;
      locked();
      await sleep(800);
      return client.$queryRaw`SELECT 1 AS one`;
    }).then(
      () => 'committed',
      () => 'failed',
    );
    await held;
    expect(await lockable()).toBe(0);
    await sleep(600);
    expect(await lockable()).toBe(1);
    expect(await settled).toBe('failed');
  } finally {
    await other.end();
  }
  expect(await poolQueryable().$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
}

describe('a transaction idle past DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', () => {
  describe('on a direct connection (a session setting)', () => {
    useOwnPool(h, { idleInTransactionTimeoutMs: 300 });

    it("ends an interactive transaction that stopped between two statements, and frees its rows' locks", async () => {
      await expectIdleTransactionEnded((work) => inTransaction(({ client }) => work(client)));
    });
  });

  describe('behind a transaction pooler (set in the transaction itself)', () => {
    useOwnPool(h, { idleInTransactionTimeoutMs: 300, pooler: 'pgbouncer' });

    it("ends a worker's pooled transaction that stopped between two statements", async () => {
      const [session] = await poolQueryable().$queryRaw<
        [{ idle_in_transaction_session_timeout: string }]
      >`SHOW idle_in_transaction_session_timeout`;
      // Nothing on the session: only the transaction's own setting can end it.
      expect(session.idle_in_transaction_session_timeout).toBe('0');
      await expectIdleTransactionEnded((work) => inPoolTransaction(({ client }) => work(client)));
    });
  });
});

describe('idle connections (DATABASE_POOL_MIN, DATABASE_POOL_IDLE_MS)', () => {
  useOwnPool(h, { poolSize: 4, poolMin: 2, poolIdleMs: 200 });

  const backendPids = (count: number) =>
    Promise.all(
      Array.from({ length: count }, async () => {
        // Held a moment, so that the statements need as many connections at once.
        const [row] = await poolQueryable().$queryRaw<
          [{ pid: number }]
        >`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`;
        return row.pid;
      }),
    );

  it('keeps DATABASE_POOL_MIN connections open past the idle timeout, and closes the rest', async () => {
    const opened = new Set(await backendPids(4));
    expect(opened.size).toBe(4);
    await sleep(800);
    // Two of the four still open: the same PostgreSQL backends, not new ones.
    expect(databasePoolStats()).toMatchObject({ inUse: 0, idle: 2 });
    const reused = await backendPids(2);
    for (const pid of reused) expect(opened).toContain(pid);
    const [alive] = await poolQueryable().$queryRaw<[{ n: number }]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY(${[...opened]}::int[])`;
    expect(alive.n).toBe(2);
  });

  it('takes out an idle connection PostgreSQL ends, before Prisma ran a statement on the pool', async () => {
    // Only raw statements on this pool so far: Prisma's adapter has not added its listener.
    const idle = new Set(await backendPids(2));
    const terminator = new pg.Client({ connectionString: h.databaseUrl });
    await terminator.connect();
    try {
      await terminator.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [
        [...idle],
      ]);
    } finally {
      await terminator.end();
    }
    await sleep(200);
    // Out of the pool (an 'error' nobody listened to would have failed the run), and the next
    // statement has a new connection.
    expect(databasePoolStats()).toMatchObject({ idle: 0 });
    const [pid] = await backendPids(1);
    expect(idle).not.toContain(pid);
  });
});
