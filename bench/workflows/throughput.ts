// Workflows through worker processes: 20 workflows × 1,000 no-op steps (25 layers of 40, each
// step waiting on two of the layer before) against the same number of bare no-op tasks on the
// same workers (the same-run baseline); and the step hop, a step's commit to its dependent
// RUNNING (a chain on an idle worker), against a bare task's enqueue to RUNNING.
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { db } from '../../src/platform/db.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { wakeWorkers } from '../../src/queue/signals.js';
import { databaseNow } from '../database.js';
import { cpuSince, cpuTicks, formatCpuPer, type CpuUsed } from '../host-cpu.js';
import { formatSummary, line, median, summarize } from '../stats.js';
import { noop } from '../tasks/noop.js';
import { spawnWorkerScript, type BenchChild } from '../tasks/processes.js';
import { chain, layered, type BenchWorkflows } from './fixture.js';
import { check, type Target } from './targets.js';

export const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 20);
const STEPS = 1_000;

export function spawnWorkers(env: Record<string, string>, processes: number): BenchChild[] {
  return Array.from({ length: processes }, () =>
    spawnWorkerScript('bench/workflows/worker-process.ts', env),
  );
}

async function waitUntil(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await sleep(100);
}

/**
 * Each run starts on tables vacuumed of the runs before it, as the queue benchmark's start on an
 * emptied table (bench/tasks/queue.ts) and as autovacuum leaves them where it runs (it is off on
 * the CI server). Without it every run's claims walked the dead claim-index entries of all the
 * runs before (docs/operations.md, "Vacuuming the queue"), a cost that grew from round to round
 * (bench/README.md, "Workflows"). The rows stay, so the statements' plans are those of a full
 * table.
 */
async function vacuumQueueTables(): Promise<void> {
  await db().$executeRaw`VACUUM tasks, task_events, workflows, workflow_steps, workflow_events`;
}

async function bareThroughput(
  flows: BenchWorkflows,
  count: number,
): Promise<{ rate: number; cpu: CpuUsed | undefined }> {
  await vacuumQueueTables();
  const since = await databaseNow();
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId")
    SELECT 'noop', '{}'::jsonb, 1, 1, 'queued', (SELECT id FROM teams WHERE slug = 'default') FROM generate_series(1, ${count})`;
  await db().$executeRaw`ANALYZE tasks`;
  const ticks = cpuTicks();
  await wakeWorkers(flows.deps.pubsub, noop.name);
  // Each open status through its partial index, in that index's order (so whatever the
  // statistics say): a count of `status IN (...)` scanned the whole table every 100 ms (5-12 ms
  // of PostgreSQL each), CPU taken from the workers measured.
  await waitUntil(async () => {
    const [open] = await db().$queryRaw<[{ any: boolean }]>`
      SELECT (SELECT true FROM tasks WHERE status = 'PENDING' AND type = 'noop'
              ORDER BY priority, "runAt", "createdAt", id LIMIT 1) IS NOT NULL
          OR (SELECT true FROM tasks WHERE status = 'RUNNING' AND type = 'noop'
              ORDER BY "lockedUntil" LIMIT 1) IS NOT NULL AS any`;
    return !open.any;
  });
  const cpu = cpuSince(ticks);
  const [row] = await db().$queryRaw<[{ seconds: number; done: number }]>`
    SELECT extract(epoch FROM max("completedAt") - min("startedAt"))::float8 AS seconds, count(*)::int AS done
    FROM tasks WHERE type = 'noop' AND status = 'COMPLETED' AND "createdAt" >= ${since}`;
  // Kept, not deleted: a tasks table emptied by a delete (and vacuumed meanwhile) had the
  // steps' statements planned for an empty table, sequential scans that their cached generic
  // plans kept while it filled up (one run in three: the turn's ends at 6x their cost).
  return { rate: row.done / row.seconds, cpu };
}

/**
 * The host's CPU per bare task and per step, and what that allows: with every core busy on
 * steps alone, cores / CPU per step steps a second. Above the measured rate, the rest is waiting
 * (locks, round trips); at or under the target, no scheduling of the same work reaches it.
 */
function printCpu(
  bare: { rate: number; cpu?: CpuUsed },
  steps: CpuUsed | undefined,
  total: number,
) {
  if (!bare.cpu || !steps) return;
  line('CPU per bare task (host, /proc)', formatCpuPer(bare.cpu, total));
  line('CPU per workflow step (host, /proc)', formatCpuPer(steps, total));
  const cores = os.cpus().length;
  const ceiling = (cores * total) / steps.total;
  line(
    `steps/s with all ${cores} cores on steps at that CPU per step`,
    `${ceiling.toFixed(0)} steps/s = ${((100 * ceiling) / bare.rate).toFixed(0)} % of the bare queue's measured rate`,
  );
}

/** `WORKFLOWS` layered workflows run to their end: steps a second, and the CPU they took. */
async function stepsThroughput(flows: BenchWorkflows): Promise<{
  rate: number;
  cpu: CpuUsed | undefined;
  done: number;
  seconds: number;
  workflows: number;
}> {
  await vacuumQueueTables();
  const ids: string[] = [];
  for (let i = 0; i < WORKFLOWS; i++) ids.push(await flows.make(layered(25, 40), 100));
  await db().$executeRaw`ANALYZE workflows, workflow_steps, workflow_step_edges, workflow_events`;
  const ticks = cpuTicks();
  for (const id of ids) await flows.start(id);
  await waitUntil(
    async () =>
      (await db().workflow.count({ where: { id: { in: ids }, status: 'RUNNING' } })) === 0,
  );
  const cpu = cpuSince(ticks);
  const [row] = await db().$queryRaw<[{ seconds: number; done: number; workflows: number }]>`
    SELECT extract(epoch FROM max(s."completedAt") - min(s."startedAt"))::float8 AS seconds, count(*)::int AS done,
           count(DISTINCT s."workflowId") FILTER (WHERE w.status = 'SUCCEEDED')::int AS workflows
    FROM workflow_steps s JOIN workflows w ON w.id = s."workflowId"
    WHERE s."workflowId" = ANY(${ids}::uuid[]) AND s.status = 'SUCCEEDED'`;
  return { rate: row.done / row.seconds, cpu, ...row };
}

const ROUNDS = Number(process.env.BENCH_WORKFLOWS_ROUNDS ?? 3);

/**
 * Bare tasks, then steps, first as they come (the bare tasks by new processes, the steps by
 * processes that never ran one); then ROUNDS warm rounds of both on the same processes, their
 * order alternating (a round's first run has the host's noise to itself as often as its second),
 * and the medians: the target's figures (when `targets` is given). One warm pair alone moved
 * between 0.31x and 0.49x from run to run on a 2-core host (bench/README.md, "Workflows"); the
 * queue benchmark compares medians of interleaved rounds the same way (bench/tasks/queue.ts).
 */
export async function benchThroughput(
  flows: BenchWorkflows,
  workers: string,
  targets?: Target[],
): Promise<void> {
  const total = WORKFLOWS * STEPS;
  const bareFirst = await bareThroughput(flows, total);
  line(
    `${total.toLocaleString('en-US')} bare no-op tasks (${workers}), new processes`,
    `${bareFirst.rate.toFixed(0)} tasks/s`,
  );
  const stepsLine = (run: Awaited<ReturnType<typeof stepsThroughput>>, base: number) =>
    `${run.rate.toFixed(0)} steps/s (${run.done} steps in ${run.seconds.toFixed(2)} s, ` +
    `${run.workflows} workflows SUCCEEDED) = ${(run.rate / base).toFixed(2)}x the bare queue`;
  const first = await stepsThroughput(flows);
  line(
    `${WORKFLOWS} workflows x ${STEPS} no-op steps (${workers}), their first`,
    stepsLine(first, bareFirst.rate),
  );
  const bareRates: number[] = [];
  const stepRates: number[] = [];
  let bareCpu: CpuUsed | undefined;
  let stepsCpu: CpuUsed | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const runBare = async () => {
      const bare = await bareThroughput(flows, total);
      bareRates.push(bare.rate);
      bareCpu ??= bare.cpu;
      line(
        `round ${round + 1}: ${total.toLocaleString('en-US')} bare no-op tasks (${workers}), warm`,
        `${bare.rate.toFixed(0)} tasks/s`,
      );
    };
    const runSteps = async () => {
      const steps = await stepsThroughput(flows);
      stepRates.push(steps.rate);
      stepsCpu ??= steps.cpu;
      line(
        `round ${round + 1}: ${WORKFLOWS} workflows x ${STEPS} no-op steps (${workers}), warm`,
        `${steps.rate.toFixed(0)} steps/s (${steps.done} steps in ${steps.seconds.toFixed(2)} s, ${steps.workflows} workflows SUCCEEDED)`,
      );
    };
    if (round % 2 === 0) {
      await runBare();
      await runSteps();
    } else {
      await runSteps();
      await runBare();
    }
  }
  const bare = median(bareRates);
  const steps = median(stepRates);
  // Each round's own ratio (its pair ran back to back) and their median, printed beside the
  // target's ratio of the medians: the two differ when the rounds' best and worst fall apart.
  const roundRatios = stepRates.map((rate, i) => rate / bareRates[i]!);
  const ratios = `${roundRatios.map((ratio) => ratio.toFixed(2)).join(', ')}; their median ${median(roundRatios).toFixed(2)}`;
  line(
    `baseline: bare no-op tasks (${workers}), warm, median of ${ROUNDS}`,
    `${bare.toFixed(0)} tasks/s`,
  );
  line(
    `${WORKFLOWS} workflows x ${STEPS} no-op steps (${workers}), warm, median of ${ROUNDS}`,
    `${steps.toFixed(0)} steps/s = ${(steps / bare).toFixed(2)}x the bare queue (each round: ${ratios})`,
  );
  // CPU per task and per step from each one's first warm round.
  printCpu({ rate: bare, cpu: bareCpu }, stepsCpu, total);
  targets?.push(
    check('workflow steps vs bare tasks throughput', (100 * steps) / bare, 40, '%', true),
  );
}

export async function benchHop(flows: BenchWorkflows, targets: Target[]): Promise<void> {
  const id = await flows.make(chain(300), 16);
  await flows.start(id);
  await waitUntil(
    async () => (await db().workflow.findUniqueOrThrow({ where: { id } })).status !== 'RUNNING',
  );
  const hops = await db().$queryRaw<Array<{ ms: number }>>`
    -- Both to the millisecond: a dependent whose start was written with its end has its task's
    -- claim time (a millisecond column) for its startedAt.
    SELECT extract(epoch FROM date_trunc('milliseconds', c."startedAt")
                              - date_trunc('milliseconds', p."completedAt"))::float8 * 1000 AS ms
    FROM workflow_steps c JOIN workflow_step_edges e ON e."childId" = c.id JOIN workflow_steps p ON p.id = e."parentId"
    WHERE c."workflowId" = ${id}::uuid`;
  const summary = summarize(hops.slice(10).map((hop) => hop.ms));
  const bare: number[] = [];
  for (let i = 0; i < 100; i++) {
    const { task } = await enqueue(
      noop,
      { payload: {}, ownerId: flows.caller.userId, teamId: null },
      { pubsub: flows.deps.pubsub },
    );
    await waitUntil(
      async () =>
        (await db().task.findUniqueOrThrow({ where: { id: task.id } })).status === 'COMPLETED',
    );
    const [row] = await db().$queryRaw<[{ ms: number }]>`
      SELECT extract(epoch FROM "startedAt" - "createdAt")::float8 * 1000 AS ms FROM tasks WHERE id = ${task.id}::uuid`;
    bare.push(row.ms);
  }
  line(
    "step hop: a step's commit -> its dependent RUNNING (a 300-step chain, 1 idle worker)",
    formatSummary(summary),
  );
  line(
    'baseline: a bare task enqueued -> RUNNING (idle worker; ms timestamps)',
    formatSummary(summarize(bare)),
  );
  targets.push(check('step hop p50', summary.p50, 5), check('step hop p99', summary.p99, 15));
}
