// A fresh database per task benchmark run (`agent_growth_bench_tasks`, or BENCH_TASKS_DATABASE
// so that two runs on one server do not drop each other's), migrated, on the server of
// DATABASE_URL or on the embedded PostgreSQL.
import { openFreshBenchDatabase } from '../database.js';

export const TASK_BENCH_DATABASE = process.env.BENCH_TASKS_DATABASE ?? 'agent_growth_bench_tasks';

export const openTaskBenchDatabase = () => openFreshBenchDatabase(TASK_BENCH_DATABASE);
