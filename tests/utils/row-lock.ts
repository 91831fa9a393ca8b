// An agent's row held by another connection (FOR NO KEY UPDATE: foreign keys to it still work),
// so that work updating it waits, and how many statements of this test database wait on a lock.
import pg from 'pg';
import { db } from '../../src/platform/db.js';
import type { Harness } from './harness.js';

export async function lockAgentRow(h: Harness, agentRowId: string) {
  const locker = new pg.Client({ connectionString: h.databaseUrl });
  await locker.connect();
  h.onCleanup(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM agents WHERE id = $1 FOR NO KEY UPDATE', [agentRowId]);
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
