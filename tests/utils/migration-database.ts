// A database of a file's own for testing one migration: created empty before the file's tests
// and dropped after them; the tests apply the migrations before the one under test, fill the
// database as the release before it would have, then apply that migration's SQL alone.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { migrationsDir } from '../../src/platform/migrations/index.js';
import { databaseUrl } from './database.js';

async function withAdmin(sql: string) {
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** `migration`: the name (after its timestamp) of the migration under test. */
export function useMigrationDatabase(migration: RegExp) {
  const name = `agent_growth_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    await withAdmin(`CREATE DATABASE "${name}"`);
    client = new pg.Client({ connectionString: databaseUrl(inject('adminDatabaseUrl'), name) });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await withAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return {
    client: () => client!,
    /** The migrations' SQL in order: those before the one under test, and it. */
    async migrations(): Promise<{ before: string[]; target: string }> {
      const names = (await readdir(migrationsDir)).filter((entry) => /^\d+_/.test(entry)).sort();
      const index = names.findIndex((entry) => migration.test(entry.replace(/^\d+_/, '')));
      expect(index).toBeGreaterThan(0);
      const sqlOf = (entry: string) =>
        readFile(path.join(migrationsDir, entry, 'migration.sql'), 'utf8');
      return {
        before: await Promise.all(names.slice(0, index).map(sqlOf)),
        target: await sqlOf(names[index]!),
      };
    },
  };
}
