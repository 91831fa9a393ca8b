// A fresh database per task benchmark run (`agent_growth_bench_tasks`), migrated, on the
// server of DATABASE_URL or on the embedded PostgreSQL.
import { applyPendingMigrations } from '../../src/migrations/index.js';
import { openBenchServer, withClient, withDatabase } from '../database.js';

export const TASK_BENCH_DATABASE = 'agent_growth_bench_tasks';

export async function openTaskBenchDatabase() {
  const server = await openBenchServer();
  await withClient(server.adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TASK_BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TASK_BENCH_DATABASE}`);
  });
  const url = withDatabase(server.adminUrl, TASK_BENCH_DATABASE);
  await applyPendingMigrations(url);
  return { url, stop: server.stop };
}
