// The pool's timestamptz parser (src/platform/timestamptz.ts) against node-postgres' own, on
// what PostgreSQL itself writes in several session time zones, and on the forms it leaves to
// node-postgres.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, poolQueryable } from '../../src/platform/db.js';
import { parseTimestamptz } from '../../src/platform/timestamptz.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
const nodePostgres = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ);
const epoch = (value: unknown) => (value instanceof Date ? value.getTime() : value);

describe('timestamptz on the pool', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
  });
  afterAll(() => client.end());

  it.each(['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Seoul', 'Europe/Amsterdam'])(
    'reads what PostgreSQL writes in %s as node-postgres does',
    async (zone) => {
      await client.query(`SET TIME ZONE '${zone}'`);
      const { rows } = await client.query<{ text: string }>({
        text: `SELECT v::text AS text FROM unnest(ARRAY[
          '2026-11-26 09:47:01.123456+00', '1999-12-31 23:59:59.999999+00', '2026-03-29 01:00:00+00',
          '1900-01-01 00:00:00+00', '1850-06-01 12:00:00+00', '0099-05-05 05:05:05.5+00',
          'infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '12026-01-01 00:00:00+00'
        ]::timestamptz[]) AS v`,
      });
      expect(rows).toHaveLength(10);
      for (const { text } of rows)
        expect(epoch(parseTimestamptz(text))).toBe(epoch(nodePostgres(text)));
    },
  );

  it('hands raw statements the same instants Prisma reads', async () => {
    const [raw] = await poolQueryable().$queryRaw<Array<{ at: Date; late: Date }>>`
      SELECT '2026-11-26 09:47:01.987654+05:30'::timestamptz AS at,
             '9999-12-31 23:59:59.999+00'::timestamptz AS late`;
    const [viaPrisma] = await db().$queryRaw<Array<{ at: Date; late: Date }>>`
      SELECT '2026-11-26 09:47:01.987654+05:30'::timestamptz AS at,
             '9999-12-31 23:59:59.999+00'::timestamptz AS late`;
    expect(raw!.at).toBeInstanceOf(Date);
    expect(raw!.at.toISOString()).toBe('2026-11-26T04:17:01.987Z');
    expect(raw!.at.getTime()).toBe(viaPrisma!.at.getTime());
    expect(raw!.late.getTime()).toBe(viaPrisma!.late.getTime());
  });

  it('leaves anything but the plain form to node-postgres', () => {
    for (const text of ['2026-11-26T09:47:01Z', '2026-11-26 09:47:01', '2026-11-26 09:47:01.+00'])
      expect(epoch(parseTimestamptz(text))).toEqual(epoch(nodePostgres(text)));
  });
});
