// `npm run bench -- statements`: the engine's batched statements alone, by the CPU of the one
// PostgreSQL backend that runs them (/proc/<pid>/stat: PostgreSQL on this host), under the plan
// PostgreSQL caches for a prepared statement (the generic one, from the sixth run on), beside
// the same statements planned for their values every time (plan_cache_mode =
// force_custom_plan) as the same-run baseline. A generic plan guessing one running task joined
// a batch to itself row by row (bench/README.md, "Queue"); this keeps that in sight.
import { connectDatabase, disconnectDatabase, poolQueryable } from '../../src/platform/db.js';
import { claimTasks } from '../../src/queue/claim.js';
import { renewLeases } from '../../src/queue/renew-leases.js';
import type { ClaimedTaskRow } from '../../src/queue/task-row.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import { processCpuMs } from '../host-cpu.js';
import { heading, line } from '../stats.js';
import { check, printTargets, type Target } from '../workflows/targets.js';
import { openTaskBenchDatabase } from './database.js';
import { prefill } from './queue.js';

const TASKS = 20_000;
const WORKER = 'bench-statements';
const LEASE_MS = 30_000;
const BACKOFF = { baseMs: 1_000, maxMs: 60_000, maxLeaseLosses: 3, maxPostponements: 3 };
const MODES = ['auto', 'force_custom_plan'] as const;
type Mode = (typeof MODES)[number];

const q = () => poolQueryable();

/** A fresh backlog of TASKS no-op tasks. */
async function backlog(): Promise<void> {
  await q().$executeRaw`TRUNCATE tasks CASCADE`;
  await prefill(TASKS);
}

const claim = (limit: number) =>
  claimTasks(q(), WORKER, { types: ['noop'], leaseMs: LEASE_MS, limit, startNow: 0 });

const ends = (tasks: ClaimedTaskRow[]) =>
  tasks.map((task) => ({
    kind: 'COMPLETED' as const,
    taskId: task.id,
    attempt: task.attempts,
    result: null,
    message: 'done',
  }));

interface Case {
  name: string;
  /** Runs the case on a fresh backlog; returns the time to count and the units it did. */
  run(cpu: () => number): Promise<{ ms: number; units: number }>;
}

/** Claims of `batch` and their ends as statements of their own (a turn without a claim). */
const endsAlone = (batch: number): Case => ({
  name: `ends alone, ${batch} a statement`,
  async run(cpu) {
    let ms = 0;
    let units = 0;
    for (;;) {
      const claimed = await claim(batch);
      if (!claimed.length) return { ms, units };
      const before = cpu();
      await writeTaskChanges(q(), WORKER, ends(claimed), BACKOFF);
      ms += cpu() - before;
      units += claimed.length;
    }
  },
});

/** Claims of `batch` (beside a turn's ends, as a statement of their own), each batch ended after. */
const claims = (batch: number): Case => ({
  name: `claims of ${batch}`,
  async run(cpu) {
    let ms = 0;
    let units = 0;
    for (;;) {
      const before = cpu();
      const claimed = await claim(batch);
      ms += cpu() - before;
      if (!claimed.length) return { ms, units };
      await writeTaskChanges(q(), WORKER, ends(claimed), BACKOFF);
      units += claimed.length;
    }
  },
});

/**
 * Heartbeats of a worker holding `held` tasks under the cached plan, against the same leases
 * moved by a bare update by key (the least a heartbeat's write costs): ms a heartbeat, each.
 */
async function heartbeats(held: number, cpu: () => number) {
  await q().$executeRaw`SELECT set_config('plan_cache_mode', 'auto', false)`;
  await backlog();
  const ids = (await claim(held)).map((task) => task.id);
  const beats = 20;
  let before = cpu();
  for (let i = 0; i < beats; i++) await renewLeases(q(), WORKER, LEASE_MS, ids);
  const ours = (cpu() - before) / beats;
  before = cpu();
  for (let i = 0; i < beats; i++)
    await q().$executeRaw`
      UPDATE tasks SET "lockedUntil" = now() + ${LEASE_MS} * interval '1 millisecond'
      WHERE id = ANY(${ids}::uuid[])`;
  return { ours, bare: (cpu() - before) / beats };
}

export async function benchStatements(): Promise<void> {
  const database = await openTaskBenchDatabase();
  // One connection: every statement on the one backend whose CPU is read.
  connectDatabase(database.url, { poolSize: 1 });
  const targets: Target[] = [];
  try {
    heading('statements (the engine batched statements, PostgreSQL backend CPU)');
    const [{ pid }] = await q().$queryRaw<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
    if (processCpuMs(pid) === undefined) {
      line('statements', 'skipped: PostgreSQL is not a process on this host (/proc)');
      return;
    }
    const cpu = () => processCpuMs(pid)!;
    const cases = [endsAlone(32), endsAlone(512), claims(512)];
    for (const each of cases) {
      const per: Partial<Record<Mode, number>> = {};
      for (const mode of MODES) {
        await q().$executeRaw`SELECT set_config('plan_cache_mode', ${mode}, false)`;
        await backlog();
        const { ms, units } = await each.run(cpu);
        per[mode] = ms / units;
        line(
          `${each.name}, plan ${mode}`,
          `${((1000 * ms) / units).toFixed(1)} µs a task (${units} done)`,
        );
      }
      targets.push(
        check(
          `${each.name}: cached plan vs re-planned`,
          per.auto! / per.force_custom_plan!,
          1.5,
          '×',
        ),
      );
    }
    const beat = await heartbeats(1_000, cpu);
    line('a heartbeat renewing 1000 leases', `${beat.ours.toFixed(1)} ms`);
    line('baseline: the same leases moved by a bare update by key', `${beat.bare.toFixed(1)} ms`);
    targets.push(check('a heartbeat vs a bare update by key', beat.ours / beat.bare, 1.5, '×'));
    heading('statements targets');
    printTargets(targets);
  } finally {
    await disconnectDatabase();
    await database.stop();
  }
}
