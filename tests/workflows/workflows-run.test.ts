// A goal planned, reviewed and run end to end on the real queue: every step kind, the
// artifact, estimates and actuals, the event log, idempotent runs, the team boundary, and the
// workflow's bound on the steps it runs at once.
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { settleStepTasks } from '../../src/services/workflows/settle.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { errorCodes } from '../utils/graphql.js';
import { PLAN, REPLAN, RUN, START, step, UPDATE, useWorkflows, WORKFLOW } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();
const GOAL = 'Compare what the agents know about embeddings and vacuum, and write a briefing';

describe('a workflow from goal to artifact', () => {
  it('plans for review without running, then runs every step kind to one artifact', async () => {
    const agentIds = w.agents.map((agent) => agent.id);
    const planned = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds } })).planWorkflow;
    expect(planned.status).toBe('PLANNED');
    expect(planned.planner).toBe('local');
    const kinds = planned.steps.map((s: any) => s.kind);
    expect(kinds.filter((k: string) => k === 'RETRIEVE')).toHaveLength(2);
    // Neither agent's coverage was ever computed: a refresh each.
    expect(kinds.filter((k: string) => k === 'REFRESH_COVERAGE')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('SYNTHESIZE');
    expect(planned.steps.every((s: any) => s.status === 'PENDING' && s.task === null)).toBe(true);
    expect(planned.criticalPath.at(-1)).toBe('synthesize');
    expect(planned.estimate.seconds).toBeGreaterThan(planned.criticalPathSeconds - 1e-9);
    expect(await db().task.count({ where: { type: 'workflow_step' } })).toBe(0);

    await w.startWorker();
    const started = (await w.gqlOk(START, { id: planned.id, v: planned.planVersion }))
      .startWorkflow;
    expect(started.status).toBe('RUNNING');
    const done = await w.waitForStatus(planned.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.progressPercent).toBe(100);
    expect(done.steps.every((s: any) => s.status === 'SUCCEEDED' && s.actual !== null)).toBe(true);
    // The workflow's actual is its steps' sum to the millisecond, with no float noise.
    const sum = done.steps.reduce((total: number, s: any) => total + s.actual.seconds, 0);
    expect(done.actual.seconds).toBe(Number(sum.toFixed(3)));
    expect(String(done.actual.seconds)).toMatch(/^\d+(\.\d{1,3})?$/);
    const retrieval = done.steps.find((s: any) => s.kind === 'RETRIEVE');
    expect(retrieval.result.hits.length).toBeGreaterThan(0);
    const section = done.steps.find((s: any) => s.kind === 'WRITE_SECTION');
    expect(section.result.markdown.length).toBeGreaterThan(0);
    expect(done.artifact.markdown).toContain(section.result.markdown.split('\n')[0]);
    expect(done.artifact.downloads.map((d: any) => d.format)).toEqual(['markdown', 'hwpx', 'docx']);
    // Estimates now come from these actuals (per unit of complexity), no longer the defaults.
    const retrievals = await db().workflowStep.findMany({
      where: { kind: 'RETRIEVE', status: 'SUCCEEDED' },
    });
    const unit =
      retrievals.reduce((sum, s) => sum + (s.actual as any).seconds / s.complexity, 0) /
      retrievals.length;
    const again = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds } })).planWorkflow;
    const estimate = again.steps.find((s: any) => s.kind === 'RETRIEVE').estimate.seconds;
    expect(estimate).toBeCloseTo(unit * 0.7, 2);
    // One coverage history entry per refresh step.
    const refreshTasks = done.steps.filter((s: any) => s.kind === 'REFRESH_COVERAGE').length;
    expect(
      await db().coverageHistory.count({ where: { agentId: { in: agentIds.map(rowId) } } }),
    ).toBe(refreshTasks);
  });

  it("keeps a gap- and duplicate-free log whose events end with the workflow's", async () => {
    await w.startWorker();
    const run = (await w.gqlOk(RUN, { input: { goal: GOAL, agentIds: [w.agents[0]!.id] } }))
      .runWorkflow;
    const done = await w.waitForStatus(run.id, ['SUCCEEDED', 'FAILED']);
    const events = (await w.gqlOk(WORKFLOW, { id: run.id })).workflow.events;
    expect(events.map((e: any) => e.sequence)).toEqual(
      events.map((_: unknown, i: number) => i + 1),
    );
    expect(events.at(-1)).toMatchObject({ kind: 'WORKFLOW', status: done.status });
    for (const s of done.steps) {
      const mine = events
        .filter((e: any) => e.stepKey === s.key && e.kind === 'STEP')
        .map((e: any) => e.status);
      expect(mine.filter((x: string) => x === 'SUCCEEDED')).toHaveLength(1);
      expect(mine.indexOf('READY')).toBeLessThan(mine.indexOf('RUNNING'));
    }
  });

  it("logs every step's start, one that ended before it was due with its end, one that ran on by itself", async () => {
    const updated = await w.planWith([
      step('fast', 'NOOP'),
      step('slow', 'NOOP', { input: { waitMs: 400 }, dependsOn: ['fast'] }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: updated.id, v: updated.planVersion });
    // The slow step is RUNNING while it runs: its start was recorded before its end.
    await w.waitFor(async () => {
      const { workflow } = await w.gqlOk(WORKFLOW, { id: updated.id });
      const slow = workflow.steps.find((s: any) => s.key === 'slow');
      return slow.status === 'RUNNING' && slow.attempts === 1 ? true : undefined;
    }, 'the slow step RUNNING');
    await w.waitForStatus(updated.id, ['SUCCEEDED']);
    const { workflow } = await w.gqlOk(WORKFLOW, { id: updated.id });
    const workflowId = rowId(updated.id);
    const at: Record<string, Record<string, number>> = {};
    for (const key of ['fast', 'slow']) {
      const mine = workflow.events.filter((e: any) => e.kind === 'STEP' && e.stepKey === key);
      expect(mine.map((e: any) => [e.status, e.message])).toEqual([
        ['READY', expect.any(String)],
        ['RUNNING', 'attempt 1 started'],
        ['SUCCEEDED', 'succeeded'],
      ]);
      expect(workflow.steps.find((s: any) => s.key === key).attempts).toBe(1);
      const rows = await db().workflowEvent.findMany({
        where: { workflowId, kind: 'STEP', stepKey: key },
      });
      at[key] = Object.fromEntries(rows.map((row) => [row.status, row.at.getTime()]));
      const row = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key } });
      at[key]!.startedAt = row.startedAt!.getTime();
      expect(row.startedAt!.getTime()).toBeLessThanOrEqual(row.completedAt!.getTime());
      // A step ends when its task does, as its SUCCEEDED event says.
      const task = await db().task.findUniqueOrThrow({ where: { id: row.taskId! } });
      expect(row.completedAt!.getTime(), key).toBe(task.completedAt!.getTime());
      expect(row.completedAt!.getTime(), key).toBe(at[key]!.SUCCEEDED);
      at[key]!.completedAt = row.completedAt!.getTime();
    }
    // And the workflow, no sooner than its last step.
    const ended = await db().workflow.findUniqueOrThrow({ where: { id: workflowId } });
    expect(ended.completedAt!.getTime()).toBeGreaterThanOrEqual(at.slow!.completedAt!);
    // The fast step's start was written by its end's commit (an event's `at` is its
    // transaction's start); the slow one's 50 ms into its run, dated when the run began.
    expect(at.fast!.RUNNING).toBe(at.fast!.SUCCEEDED);
    expect(at.slow!.SUCCEEDED! - at.slow!.RUNNING!).toBeGreaterThanOrEqual(300);
    expect(at.slow!.RUNNING! - at.slow!.startedAt!).toBeGreaterThanOrEqual(45);
  });

  it("logs a retried step's new attempt when only its end records it", async () => {
    // Started without a worker: both steps are READY with their tasks, none claimed.
    const updated = await w.startWith([step('once', 'NOOP'), step('twice', 'NOOP')]);
    const workflowId = rowId(updated.id);
    // Each had its first attempt's start recorded (RUNNING, attempt 1); `twice` failed it.
    const rows = await db().workflowStep.findMany({ where: { workflowId } });
    await db().workflowStep.updateMany({
      where: { workflowId },
      data: { status: 'RUNNING', attempts: 1, startedAt: new Date() },
    });
    const ended = rows.map((row) => ({
      id: row.taskId!,
      status: 'COMPLETED' as const,
      result: { tokens: 0 },
      error: null,
      payload: { workflowId, stepId: row.id },
      startedAt: new Date(),
      completedAt: new Date(),
      attempts: row.key === 'twice' ? 2 : 1,
    }));
    const deps = { pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS };
    await inTransaction((tx) => settleStepTasks(tx, ended, deps));
    const events = await db().workflowEvent.findMany({
      where: { workflowId, kind: 'STEP', status: { in: ['RUNNING', 'SUCCEEDED'] } },
      orderBy: { sequence: 'asc' },
    });
    const of = (key: string) =>
      events.filter((e) => e.stepKey === key).map((e) => [e.status, e.message]);
    expect(of('once')).toEqual([['SUCCEEDED', 'succeeded']]);
    expect(of('twice')).toEqual([
      ['RUNNING', 'attempt 2 started'],
      ['SUCCEEDED', 'succeeded'],
    ]);
    const twice = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'twice' } });
    expect(twice).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });

  it("deletes a workflow's events with it (no foreign key: a statement trigger), only its", async () => {
    const planned = async (goal: string) =>
      rowId((await w.startWith([step('only', 'NOOP')], { goal })).id);
    const gone = await planned('deleted with its events');
    const kept = await planned('kept with its events');
    const keptEvents = await db().workflowEvent.count({ where: { workflowId: kept } });
    expect(await db().workflowEvent.count({ where: { workflowId: gone } })).toBeGreaterThan(0);
    expect(keptEvents).toBeGreaterThan(0);
    await db().workflow.delete({ where: { id: gone } });
    expect(await db().workflowEvent.count({ where: { workflowId: gone } })).toBe(0);
    expect(await db().workflowEvent.count({ where: { workflowId: kept } })).toBe(keptEvents);
  });

  it('leaves a step with no task once its task is deleted (no foreign key: a statement trigger), only that step', async () => {
    const planned = await w.planWith([step('gone', 'NOOP'), step('kept', 'NOOP')]);
    await w.startWorker();
    await w.gqlOk(START, { id: planned.id, v: planned.planVersion });
    await w.waitForStatus(planned.id, ['SUCCEEDED']);
    const workflowId = rowId(planned.id);
    const taskOf = async (key: string) =>
      (await db().workflowStep.findFirstOrThrow({ where: { workflowId, key } })).taskId;
    const [gone, kept] = [await taskOf('gone'), await taskOf('kept')];
    expect(await db().task.count({ where: { id: { in: [gone!, kept!] } } })).toBe(2);
    await db().task.delete({ where: { id: gone! } });
    expect([await taskOf('gone'), await taskOf('kept')]).toEqual([null, kept]);
    // Through the API: the step's task reads as none, the other's as its task.
    const { workflow } = await w.gqlOk(
      `query($id: ID!) { workflow(id: $id) { steps { key status task { id } } } }`,
      { id: planned.id },
    );
    const byKey = Object.fromEntries(workflow.steps.map((s: any) => [s.key, s]));
    expect([byKey.gone.status, byKey.kept.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(byKey.gone.task).toBeNull();
    expect(rowId(byKey.kept.task.id)).toBe(kept);
  });

  it("logs a failed step's start when only its end writes it, and makes none up", async () => {
    // Started without a worker: both READY with their tasks, no start written (a worker that
    // died before it was due, or whose start record failed).
    const updated = await w.startWith([
      step('known', 'NOOP', { failurePolicy: 'SKIP_BRANCH' }),
      step('unknown', 'NOOP', { failurePolicy: 'SKIP_BRANCH' }),
    ]);
    const workflowId = rowId(updated.id);
    const rows = await db().workflowStep.findMany({ where: { workflowId } });
    const startedAt = new Date(Date.now() - 1_000);
    const ended = rows.map((row) => ({
      id: row.taskId!,
      status: 'FAILED' as const,
      result: null,
      error: 'boom',
      payload: { workflowId, stepId: row.id },
      startedAt,
      completedAt: new Date(),
      attempts: row.key === 'known' ? 1 : null,
    }));
    const deps = { pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS };
    await inTransaction((tx) => settleStepTasks(tx, ended, deps));
    const events = await db().workflowEvent.findMany({
      where: { workflowId, kind: 'STEP' },
      orderBy: { sequence: 'asc' },
    });
    const of = (key: string) => events.filter((e) => e.stepKey === key).map((e) => e.status);
    expect(of('known')).toEqual(['READY', 'RUNNING', 'SKIPPED']);
    expect(of('unknown')).toEqual(['READY', 'SKIPPED']);
    const known = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'known' } });
    expect(known).toMatchObject({ status: 'SKIPPED', attempts: 1, startedAt });
  });

  it('answers a repeated runWorkflow with the workflow its idempotency key started', async () => {
    const input = { goal: GOAL, agentIds: [w.agents[1]!.id] };
    const first = (await w.gqlOk(RUN, { input, key: 'same-run' })).runWorkflow;
    const again = (await w.gqlOk(RUN, { input, key: 'same-run' })).runWorkflow;
    expect(again.id).toBe(first.id);
    expect(await db().workflow.count({ where: { idempotencyKey: 'same-run' } })).toBe(1);
  });

  it('answers parallel startWorkflow calls with one key with the workflow, and without one: one starts, the others ALREADY_STARTED', async () => {
    for (const key of ['same-start', undefined]) {
      const planned = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds: [] } })).planWorkflow;
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          w.h.gql(START, { id: planned.id, v: planned.planVersion, key }, w.keys.alice),
        ),
      );
      const outcomes = answers.map(
        (a) => a.errors?.[0]?.extensions?.reason ?? a.data.startWorkflow.id,
      );
      if (key) expect(outcomes, String(key)).toEqual(Array(8).fill(planned.id));
      else {
        expect(outcomes.filter((o) => o === planned.id)).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'ALREADY_STARTED')).toHaveLength(7);
      }
    }
  });

  it("hides a team's workflow from another team (null, NOT_FOUND) and its teammates may not change it without WRITE", async () => {
    const planned = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds: [] } })).planWorkflow;
    expect((await w.gqlOk(WORKFLOW, { id: planned.id }, w.keys.bob)).workflow).toBeNull();
    const started = await w.h.gql(START, { id: planned.id, v: 1 }, w.keys.bob);
    expect(errorCodes(started)).toEqual(['NOT_FOUND']);
    const list = await w.gqlOk(
      '{ workflows(first: 100) { totalCount edges { node { id } } } }',
      {},
      w.keys.bob,
    );
    expect(list.workflows.edges.map((e: any) => e.node.id)).not.toContain(planned.id);
    const mine = await w.gqlOk(
      'query { workflows(status: PLANNED, first: 100) { edges { node { id status } } } }',
      {},
    );
    expect(mine.workflows.edges.map((e: any) => e.node.id)).toContain(planned.id);
  });
});

describe('maxParallelSteps', () => {
  it('never runs more of a workflow’s steps at once than its maxParallelSteps', async () => {
    const steps = Array.from({ length: 9 }, (_, i) =>
      step(`s${i}`, 'NOOP', { input: { waitMs: 150 } }),
    );
    const plan = await w.planWith(steps, { maxParallelSteps: 3 });
    await w.startWorker({ concurrency: 8 });
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const done = await w.waitForStatus(plan.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    const rows = await db().workflowStep.findMany({
      where: { workflowId: rowId(plan.id) },
      select: { startedAt: true, completedAt: true },
    });
    // The most steps running at one moment, from their start and end times (an end first on a tie).
    const changes = rows
      .flatMap((row) => [
        [row.startedAt!.getTime(), 1],
        [row.completedAt!.getTime(), -1],
      ])
      .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let running = 0;
    let most = 0;
    for (const [, change] of changes) most = Math.max(most, (running += change!));
    // Three at a time (the 8 free slots of the worker would have taken all 9 at once).
    expect(most).toBe(3);
  });
});

describe('replanWorkflow', () => {
  it('plans a PLANNED workflow anew at a new version, and refuses a stale one (CONFLICT)', async () => {
    const planned = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds: [w.agents[0]!.id] } }))
      .planWorkflow;
    const edited = (await w.gqlOk(UPDATE, { id: planned.id, v: 1, steps: [step('only', 'NOOP')] }))
      .updateWorkflowPlan;
    expect(edited.steps.map((s: any) => s.key)).toEqual(['only']);
    const replanned = (await w.gqlOk(REPLAN, { id: planned.id, v: 2, hint: 'start over' }))
      .replanWorkflow;
    expect(replanned.planVersion).toBe(3);
    expect(replanned.steps.map((s: any) => s.key)).toEqual(planned.steps.map((s: any) => s.key));
    const stale = await w.h.gql(REPLAN, { id: planned.id, v: 2 }, w.keys.alice);
    expect(stale.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'STALE_PLAN_VERSION',
    });
  });

  it('refuses to replan by hand while a step’s REPLAN is under way (CONFLICT), and replans a running workflow after', async () => {
    const planned = (await w.gqlOk(PLAN, { input: { goal: GOAL, agentIds: [w.agents[0]!.id] } }))
      .planWorkflow;
    const edited = (
      await w.gqlOk(UPDATE, {
        id: planned.id,
        v: 1,
        steps: [step('first', 'NOOP'), step('next', 'NOOP', { dependsOn: ['first'] })],
      })
    ).updateWorkflowPlan;
    const started = (await w.gqlOk(START, { id: edited.id, v: edited.planVersion })).startWorkflow;
    const first = await db().workflowStep.findFirstOrThrow({
      where: { workflowId: rowId(started.id), key: 'first' },
    });
    // What a step failing under REPLAN leaves while its replan task is queued.
    await db().workflow.update({
      where: { id: rowId(started.id) },
      data: { replanTaskId: first.taskId },
    });
    const refused = await w.h.gql(REPLAN, { id: started.id, v: 2 }, w.keys.alice);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'REPLAN_UNDER_WAY',
    });
    expect((await w.workflowOf(started.id)).planVersion).toBe(2);
    await db().workflow.update({ where: { id: rowId(started.id) }, data: { replanTaskId: null } });
    const replanned = (await w.gqlOk(REPLAN, { id: started.id, v: 2, hint: 'again' }))
      .replanWorkflow;
    expect(replanned.planVersion).toBe(3);
  });
});
