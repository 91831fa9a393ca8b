// A database per test file, cloned from a template migrated once per run
// (CREATE DATABASE … TEMPLATE is a file copy: far faster than migrating each time).
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { applyPendingMigrations, migrationsDir } from '../../src/platform/migrations/index.js';

const TEMPLATE_PREFIX = 'agent_growth_tpl_';
const TEST_PREFIX = 'agent_growth_test_';

/** Runs `statements` on a connection of its own to `url` (a migration test's setup, by hand). */
export async function runSql(url: string, statements: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(statements);
  } finally {
    await client.end();
  }
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Named after the migrations' contents, so a changed migration gets a fresh template. */
async function templateName(): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of (await readdir(migrationsDir)).sort()) {
    if (entry.endsWith('.toml')) continue;
    hash.update(entry).update(await readFile(path.join(migrationsDir, entry, 'migration.sql')));
  }
  return TEMPLATE_PREFIX + hash.digest('hex').slice(0, 16);
}

export async function prepareTemplateDatabase(adminUrl: string): Promise<string> {
  const name = await templateName();
  await withClient(adminUrl, async (client) => {
    // Concurrent runs on one server take turns building the template.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    try {
      const found = await client.query(
        `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`,
        [name],
      );
      if (found.rows[0]?.note === 'migrated') return;
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
      await applyPendingMigrations(databaseUrl(adminUrl, name));
      await client.query(`COMMENT ON DATABASE "${name}" IS 'migrated'`);
      // Test databases of runs that died more than an hour ago.
      const stale = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`${TEST_PREFIX}%`],
      );
      const hourAgo = Math.floor(Date.now() / 1000) - 3600;
      for (const { datname } of stale.rows) {
        const created = Number(datname.slice(TEST_PREFIX.length).split('_')[0]);
        if (created < hourAgo)
          await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => {});
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(
  adminUrl: string,
  template: string,
): Promise<TestDatabase> {
  const name = `${TEST_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`),
  );
  return {
    name,
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      ).then(() => {}),
  };
}
