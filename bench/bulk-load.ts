// The bulk load's mechanics (bench/generate.ts): connections tuned for it, timed steps, work
// spread over two backends, and the loaded tables' secondary indexes dropped before the load
// and recreated from their own definitions after it.
import pg from 'pg';
import { ms } from './stats.js';

/** The tables the generator fills. */
const LOADED_TABLES = [
  'taxonomy_nodes',
  'documents',
  'document_nodes',
  'chunks',
  'agents',
  'agent_nodes',
  'search_postings',
  'search_phrase_pairs',
];

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'`,
  );
  return client;
}

export async function step<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  console.log(`  ${label.padEnd(58)} ${ms(performance.now() - started)}`);
  return result;
}

/** Runs the tasks on `clients` connections at once (2 cores: two backends). */
export async function onConnections(
  clients: pg.Client[],
  tasks: Array<(client: pg.Client) => Promise<void>>,
): Promise<void> {
  const queue = [...tasks];
  await Promise.all(
    clients.map(async (client) => {
      for (let task = queue.shift(); task; task = queue.shift()) await task(client);
    }),
  );
}

interface DroppedIndex {
  name: string;
  def: string;
}

export async function dropSecondaryIndexes(client: pg.Client): Promise<DroppedIndex[]> {
  return step('drop secondary indexes of the loaded tables', async () => {
    const found = await client.query<DroppedIndex>(
      `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
       ORDER BY pg_relation_size(x.indrelid) DESC`,
      [LOADED_TABLES],
    );
    for (const index of found.rows) await client.query(`DROP INDEX "${index.name}"`);
    return found.rows;
  });
}

export async function recreateIndexes(
  clients: pg.Client[],
  indexes: DroppedIndex[],
): Promise<void> {
  await step(`recreate ${indexes.length} indexes (2 connections)`, () =>
    onConnections(
      clients,
      indexes.map((index) => async (client) => {
        const started = performance.now();
        await client.query(index.def);
        console.log(`    ${index.name.padEnd(40)} ${ms(performance.now() - started)}`);
      }),
    ),
  );
}

export async function vacuumLoadedTables(clients: pg.Client[]): Promise<void> {
  await step('VACUUM (ANALYZE) the loaded tables', () =>
    onConnections(
      clients,
      LOADED_TABLES.map((table) => async (client) => {
        await client.query(`VACUUM (ANALYZE) ${table}`);
      }),
    ),
  );
}
