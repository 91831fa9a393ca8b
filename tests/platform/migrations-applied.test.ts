// A start whose database has applied exactly its migrations reads _prisma_migrations and
// leaves the schema engine unloaded (src/platform/migrations/index.ts). Whatever else the
// table says must still reach the engine: a migration it does not list is applied, a failed
// one is reported, never answered "nothing to apply".
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyPendingMigrations, migrationsDir } from '../../src/platform/migrations/index.js';
import { databaseUrl, runSql } from '../utils/database.js';

const admin = inject('adminDatabaseUrl');
const name = `agent_growth_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
const url = databaseUrl(admin, name);

/** The applied migrations' answer, or that it was refused. */
const outcome = (applying: Promise<string[]>) =>
  applying.then(
    (applied) => ({ applied }),
    (error: Error) => ({ refused: error.message }),
  );

let migrations: string[];

beforeAll(async () => {
  await runSql(admin, `CREATE DATABASE "${name}"`);
  migrations = (await readdir(migrationsDir)).filter((entry) => /^\d+_/.test(entry)).sort();
  expect(await applyPendingMigrations(url)).toEqual(migrations);
});

afterAll(async () => {
  await runSql(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

describe('applying migrations to a database that has them all', () => {
  it('applies nothing', async () => {
    expect(await applyPendingMigrations(url)).toEqual([]);
  });

  it('leaves a failed migration to the engine, which refuses to go on', async () => {
    const last = migrations.at(-1)!;
    await runSql(
      url,
      `UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '${last}'`,
    );
    const result = await outcome(applyPendingMigrations(url));
    await runSql(
      url,
      `UPDATE _prisma_migrations SET finished_at = now() WHERE migration_name = '${last}'`,
    );
    expect(result).toMatchObject({ refused: expect.stringContaining(last) });
    expect(await applyPendingMigrations(url)).toEqual([]);
  });

  it('leaves a migration the table does not list to the engine, which runs it again', async () => {
    const last = migrations.at(-1)!;
    await runSql(url, `DELETE FROM _prisma_migrations WHERE migration_name = '${last}'`);
    // Its objects are there already: run again, its SQL fails (or, were it idempotent, it
    // would be applied); either way not "nothing to apply".
    const result = await outcome(applyPendingMigrations(url));
    expect(result).not.toEqual({ applied: [] });
    if ('applied' in result) expect(result.applied).toEqual([last]);
  });
});
