// An agent's row (FOR NO KEY UPDATE: foreign keys to it still work) or a whole table held by
// another connection, so that work on it waits, and how many statements of this test database
// wait on a lock.
import pg from 'pg';
import { db } from '../../src/platform/db.js';
import type { Harness } from './harness.js';

export async function lockAgentRow(h: Harness, agentRowId: string) {
  return holdLock(h, ['SELECT 1 FROM agents WHERE id = $1 FOR NO KEY UPDATE', [agentRowId]]);
}

/** A whole table held by another connection (ACCESS EXCLUSIVE: every read of it waits). */
export async function lockTable(h: Harness, table: string) {
  return holdLock(h, [`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`, []]);
}

/** A whole table held against writes (SHARE: reads go on, every insert, update and delete waits). */
export async function lockTableForWrites(h: Harness, table: string) {
  return holdLock(h, [`LOCK TABLE ${table} IN SHARE MODE`, []]);
}

/** Rows `sql` locks (FOR UPDATE, FOR SHARE...), held by another connection until released. */
export function holdRow(h: Harness, sql: string, values: unknown[]) {
  return holdLock(h, [sql, values]);
}

async function holdLock(h: Harness, [sql, values]: [string, unknown[]]) {
  const locker = new pg.Client({ connectionString: h.databaseUrl });
  await locker.connect();
  h.onCleanup(() => locker.end());
  await locker.query('BEGIN');
  await locker.query(sql, values);
  return {
    /** Statements waiting on a lock now (read on another connection: a transaction reads pg_stat_activity once). */
    async waiting(): Promise<number> {
      const [{ n }] = await db().$queryRaw<[{ n: number }]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      return n;
    },
    release: () => locker.query('ROLLBACK'),
  };
}
