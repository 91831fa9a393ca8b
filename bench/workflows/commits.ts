// The in-process workflow figures: a 1,000-step plan checked with its critical path; the local
// plan with 8 agents (planWorkflow, stored); the commit that fans 1 → 1,000 out and the one
// that makes a 1,000 → 1 fan-in ready (the worker's own path for completed steps: their ends
// and the steps' commit in one transaction); cancelling 1,000 steps. Baselines: the same 1,000 bare tasks
// inserted, and cancelled, in one statement.
import { db } from '../../src/platform/db.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { checkPlan } from '../../src/reports/planner/workflow-check.js';
import { estimatePlan } from '../../src/reports/planner/workflow-estimate.js';
import { cancelTasksCtes } from '../../src/queue/cancel-tasks.js';
import { claimTasks } from '../../src/queue/claim.js';
import type { ClaimedTaskRow } from '../../src/queue/task-row.js';
import { changedTask, writeTaskChanges } from '../../src/queue/write-changes.js';
import { insertTasksCtes } from '../../src/queue/insert-tasks.js';
import { cancelWorkflow } from '../../src/services/workflows/cancel.js';
import { planWorkflow } from '../../src/services/workflows/plan.js';
import { finishHookOf, inCompletingTransaction } from '../../src/workers/finish-hook.js';
import type { TaskRegistry } from '../../src/workers/task-registry.js';
import { formatSummary, line, summarize, timeRuns } from '../stats.js';
import { layered, noopStep, type BenchWorkflows } from './fixture.js';
import { check, type Target } from './targets.js';

const WORKER = 'bench-commits';

/**
 * Ends claimed step tasks as the worker does when they completed (their ends and the steps'
 * commit in one transaction, completeAndClaim), claiming nothing: every task the commit makes
 * is PENDING, as the bare baseline's are. Its time in ms.
 */
async function commitEnds(registry: TaskRegistry, flows: BenchWorkflows, tasks: ClaimedTaskRow[]) {
  const claimed = new Map(tasks.map((task) => [task.id, task]));
  const hook = finishHookOf(registry, flows.deps.pubsub)!;
  const outcomes = tasks.map((task) => ({
    kind: 'COMPLETED' as const,
    taskId: task.id,
    attempt: task.attempts,
    result: { tokens: 0 },
    message: 'completed',
  }));
  const started = performance.now();
  await inCompletingTransaction(
    hook,
    { tasks, wait: false },
    (client) =>
      writeTaskChanges(client, WORKER, outcomes, {
        baseMs: 200,
        maxMs: 5_000,
        maxLeaseLosses: 3,
        maxPostponements: 3,
      }),
    (row) => {
      const task = claimed.get(row.id);
      return task && changedTask(task, row);
    },
    { workerId: WORKER, types: ['workflow_step'], leaseMs: 60_000, limit: 0, startNow: 0 },
  );
  return performance.now() - started;
}

const claimAll = (limit: number) =>
  claimTasks(db(), WORKER, { types: ['workflow_step'], leaseMs: 60_000, limit, startNow: limit });

export async function benchValidation(targets: Target[]): Promise<void> {
  const steps = layered(25, 40);
  (globalThis as { gc?: () => void }).gc?.();
  const samples = await timeRuns(
    500,
    async () => {
      const checked = checkPlan(steps, { maxSteps: 1_000, agentIds: new Set() });
      if (!('order' in checked)) throw new Error('the bench plan is invalid');
      estimatePlan(steps, checked.order, { actuals: {}, pricePerMillionTokens: 1 });
    },
    5,
  );
  const summary = summarize(samples);
  line('1,000-step plan checked, estimated, critical path', formatSummary(summary));
  targets.push(check('plan validation p99', summary.p99, 20));
}

export async function benchLocalPlan(
  flows: BenchWorkflows,
  agentIds: string[],
  targets: Target[],
): Promise<void> {
  const input = {
    goal: 'Compare what the agents know about retention, refresh what is stale, and write a briefing',
    agentIds,
  };
  const samples = await timeRuns(100, () => planWorkflow(input, flows.caller, flows.deps), 5);
  const summary = summarize(samples);
  line(`local plan with ${agentIds.length} agents (planWorkflow, stored)`, formatSummary(summary));
  targets.push(check('local plan p99 (8 agents)', summary.p99, 50));
}

export async function benchFanOut(
  registry: TaskRegistry,
  flows: BenchWorkflows,
  targets: Target[],
): Promise<void> {
  const samples: number[] = [];
  // One round first, not measured, as timeRuns warms its baseline: the process's first run of
  // the commit pays once what a worker that has committed a step before has already paid
  // (V8 compiling the path, PostgreSQL's first execution of the statement on a connection).
  for (let round = -1; round < 5; round++) {
    const id = await flows.make(
      [noopStep('root'), ...Array.from({ length: 1_000 }, (_, i) => noopStep(`f${i}`, ['root']))],
      1_000,
    );
    await flows.start(id);
    const ms = await commitEnds(registry, flows, await claimAll(1));
    if (round >= 0) samples.push(ms);
    const ready = await db().workflowStep.count({
      where: { workflowId: id, status: 'READY', taskId: { not: null } },
    });
    if (ready !== 1_000) throw new Error(`fan-out: ${ready} of 1,000 dispatched`);
    await cancelWorkflow(id, flows.caller, flows.deps);
  }
  const baseline = await timeRuns(
    5,
    () => db().$queryRaw`
    WITH source AS (SELECT '{}'::jsonb AS payload, NULL::uuid AS "ownerId", (SELECT id FROM teams WHERE slug = 'default') AS "teamId" FROM generate_series(1, 1000)),
    ${insertTasksCtes('source', { type: 'bench_bare', priority: 'LOW', maxAttempts: 1, timeoutSeconds: 60 })}
    SELECT count(*) FROM inserted_tasks`,
  );
  const summary = summarize(samples);
  line(
    'fan-out 1 -> 1,000: the commit (step done, 1,000 READY, 1,000 tasks)',
    `${formatSummary(summary)}; baseline 1,000 bare tasks in one insert: ${formatSummary(summarize(baseline))}`,
  );
  targets.push(check('fan-out 1 -> 1,000 in one commit (max of 5)', summary.max, 100));
  await db().$executeRaw`DELETE FROM tasks WHERE type = 'bench_bare'`;
}

export async function benchFanIn(
  registry: TaskRegistry,
  flows: BenchWorkflows,
  targets: Target[],
): Promise<void> {
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const parents = Array.from({ length: 1_000 }, (_, i) => noopStep(`p${i}`));
    const id = await flows.make(
      [
        ...parents,
        noopStep(
          'join',
          parents.map((p) => p.key),
        ),
      ],
      1_000,
    );
    await flows.start(id);
    const claimed = await claimAll(1_000);
    for (let i = 0; i < 999; i += 111)
      await commitEnds(registry, flows, claimed.slice(i, Math.min(i + 111, 999)));
    samples.push(await commitEnds(registry, flows, claimed.slice(999)));
    const join = await db().workflowStep.findFirstOrThrow({
      where: { workflowId: id, key: 'join' },
    });
    if (join.status !== 'READY' || !join.taskId) throw new Error('fan-in: the join is not ready');
    await cancelWorkflow(id, flows.caller, flows.deps);
  }
  const summary = summarize(samples);
  line(
    "fan-in 1,000 -> 1: the last parent's commit (join READY, its task queued)",
    formatSummary(summary),
  );
  targets.push(check('fan-in ready after the last parent (max of 5)', summary.max, 20));
}

export async function benchCancel(flows: BenchWorkflows, targets: Target[]): Promise<void> {
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const id = await flows.make(
      Array.from({ length: 1_000 }, (_, i) => noopStep(`s${i}`)),
      16,
    );
    await flows.start(id);
    await claimAll(8); // some running, some queued, most waiting for a slot
    const started = performance.now();
    await cancelWorkflow(id, flows.caller, flows.deps);
    samples.push(performance.now() - started);
  }
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId")
    SELECT 'bench_bare', '{}'::jsonb, 1, 1, 'queued', (SELECT id FROM teams WHERE slug = 'default') FROM generate_series(1, 1000)`;
  const started = performance.now();
  await db()
    .$queryRaw`WITH ${cancelTasksCtes(Prisma.sql`SELECT id FROM tasks WHERE type = 'bench_bare'`, 'bench')} SELECT count(*) FROM cancelled_tasks`;
  const bare = performance.now() - started;
  const summary = summarize(samples);
  line(
    'cancelWorkflow of 1,000 steps (16 tasks queued or running)',
    `${formatSummary(summary)}; baseline 1,000 bare tasks cancelled in one statement: ${bare.toFixed(1)} ms`,
  );
  targets.push(check('cancelling 1,000 steps (max of 5)', summary.max, 100));
}
