// Raw statements on the pool (src/platform/described-query.ts): a prepared statement's result is
// described by PostgreSQL on its first run in the process only, its rows made from the wire
// with the right types every run, and a statement that fails, before or among its rows, fails
// alone. Counted by the RowDescription messages the pool's connection receives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePool, inPoolTransaction, poolQueryable, PREPARED } from '../../src/platform/db.js';
import { useHarness } from '../utils/harness.js';
import { useOwnPool } from '../utils/own-pool.js';

const h = useHarness();
let descriptions = 0;

describe('raw statements on the pool', () => {
  useOwnPool(h, { poolSize: 1, poolMin: 0 });
  beforeAll(async () => {
    databasePool().on('connect', (client) => {
      const { connection } = client as unknown as {
        connection: { on(event: string, listener: () => void): void };
      };
      connection.on('rowDescription', () => descriptions++);
    });
    await poolQueryable().$executeRaw`
      CREATE TABLE IF NOT EXISTS described_statements_test (id serial PRIMARY KEY, v int NOT NULL)`;
    await poolQueryable().$executeRaw`TRUNCATE described_statements_test`;
  });
  afterAll(async () => {
    await poolQueryable().$executeRaw`DROP TABLE IF EXISTS described_statements_test`;
  });

  it('describes a prepared statement once, and parses its rows every run', async () => {
    const run = (n: number, s: string) =>
      poolQueryable().$queryRaw<
        Array<{ n: number; at: Date; doc: unknown; none: null; s: string }>
      >`${PREPARED}
        SELECT ${n}::int AS n, now()::timestamptz AS at, '{"a": [1, 2]}'::jsonb AS doc,
                           NULL::text AS none, 'x' || ${s} AS s`;
    const before = descriptions;
    for (const [n, s] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const) {
      const rows = await run(n, s);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual({
        n,
        at: expect.any(Date),
        doc: { a: [1, 2] },
        none: null,
        s: `x${s}`,
      });
    }
    expect(descriptions - before).toBe(1);
  });

  it('describes a statement that is not prepared on every run', async () => {
    const before = descriptions;
    for (let i = 0; i < 3; i++)
      expect(await poolQueryable().$queryRaw`SELECT ${i}::int AS i`).toEqual([{ i }]);
    expect(descriptions - before).toBe(3);
  });

  it('counts the rows of a prepared statement that returns none', async () => {
    const before = descriptions;
    for (let v = 1; v <= 3; v++)
      expect(
        await poolQueryable().$executeRaw`${PREPARED}
        INSERT INTO described_statements_test (v) VALUES (${v}::int)`,
      ).toBe(1);
    expect(
      await poolQueryable().$executeRaw`${PREPARED} UPDATE described_statements_test SET v = v + 1`,
    ).toBe(3);
    expect(descriptions - before).toBe(0);
    expect(
      await poolQueryable().$queryRaw`${PREPARED}
        SELECT v FROM described_statements_test ORDER BY v`,
    ).toEqual([{ v: 2 }, { v: 3 }, { v: 4 }]);
  });

  it('fails a described statement alone, before or among its rows', async () => {
    const divide = (d: number) =>
      poolQueryable().$queryRaw<Array<{ q: number }>>`${PREPARED}
        SELECT 6 / (${d}::int - g) AS q FROM generate_series(1, 3) g ORDER BY g`;
    expect(await divide(4)).toEqual([{ q: 2 }, { q: 3 }, { q: 6 }]);
    // Its third row divides by zero: the rows before it are not an answer.
    await expect(divide(3)).rejects.toMatchObject({ code: '22012' });
    expect(await divide(7)).toEqual([{ q: 1 }, { q: 1 }, { q: 1 }]);
    // A value PostgreSQL refuses before any row (not an int).
    await expect(
      poolQueryable()
        .$queryRaw`${PREPARED} SELECT 6 / (${'x'}::int - g) AS q FROM generate_series(1, 3) g ORDER BY g`,
    ).rejects.toMatchObject({ code: '22P02' });
    expect(await divide(4)).toEqual([{ q: 2 }, { q: 3 }, { q: 6 }]);
  });

  it('runs described statements inside a transaction on the pool', async () => {
    const rows = await inPoolTransaction(async (tx) => {
      await tx.client.$executeRaw`${PREPARED}
        INSERT INTO described_statements_test (v) VALUES (${10}::int)`;
      return tx.client.$queryRaw`${PREPARED}
        SELECT v FROM described_statements_test ORDER BY v`;
    });
    expect(rows).toEqual([{ v: 2 }, { v: 3 }, { v: 4 }, { v: 10 }]);
  });
});
