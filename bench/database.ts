// The benchmark database: a dedicated `agent_growth_bench` on the server named by
// DATABASE_URL (used as an admin URL), else on the embedded PostgreSQL under .data/bench.
// Kept between runs so the corpus is generated once.
import path from 'node:path';
import pg from 'pg';
import { db } from '../src/platform/db.js';
import { startEmbeddedPostgres } from '../src/platform/embedded-postgres.js';

export const BENCH_DATABASE = 'agent_growth_bench';

export interface BenchServer {
  /** The `agent_growth_bench` database. */
  url: string;
  /** A maintenance database of the same server (create / drop / comment). */
  adminUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The database's clock, for reading back a run's rows by their own times: a row a later
 * statement writes has a createdAt (or startedAt) at or after it, whatever this host's clock says.
 */
export async function databaseNow(): Promise<Date> {
  const [{ now }] = await db().$queryRaw<[{ now: Date }]>`SELECT now() AS now`;
  return now;
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withClient<T>(
  url: string,
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function openBenchServer(): Promise<BenchServer> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    return {
      url: withDatabase(adminUrl, BENCH_DATABASE),
      adminUrl,
      embedded: false,
      stop: async () => {},
    };
  }
  const embedded = await startEmbeddedPostgres(path.resolve('.data/bench'));
  return {
    url: withDatabase(embedded.adminUrl, BENCH_DATABASE),
    adminUrl: embedded.adminUrl,
    embedded: true,
    stop: embedded.stop,
  };
}

/** The marker of a complete corpus: a comment on the database, written as the last step of generation. */
export async function readCorpusMarker(adminUrl: string): Promise<string | undefined> {
  return withClient(adminUrl, async (client) => {
    const found = await client.query<{ note: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`,
      [BENCH_DATABASE],
    );
    return found.rowCount ? (found.rows[0]!.note ?? '') : undefined;
  });
}

export async function writeCorpusMarker(adminUrl: string, note: string): Promise<void> {
  await withClient(adminUrl, (client) =>
    client.query(`COMMENT ON DATABASE ${BENCH_DATABASE} IS '${note.replace(/'/g, "''")}'`),
  );
}

export async function recreateBenchDatabase(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  });
}

export async function ensureBenchDatabase(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      BENCH_DATABASE,
    ]);
    if (!found.rowCount) await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  });
}

/** A fresh, migrated database of that name on the bench server (dropped first if it exists). */
export async function openFreshBenchDatabase(
  name: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const { applyPendingMigrations } = await import('../src/platform/migrations/index.js');
  const server = await openBenchServer();
  await withClient(server.adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = withDatabase(server.adminUrl, name);
  await applyPendingMigrations(url);
  return { url, stop: server.stop };
}
