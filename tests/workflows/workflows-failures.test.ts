// Failure policies, applied after a step's retries: FAIL_WORKFLOW stops every
// other step (a running one aborted), SKIP lets dependents run and see the failed input,
// SKIP_BRANCH skips the failed step's dependents, REPLAN writes a new tail (the limit of two
// replans is in workflows-llm.test.ts, where a writer keeps failing);
// cancelWorkflow stops everything and is harmless to repeat. A step fails for real here: its
// agent is deleted after planning.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseGlobalId } from '../../src/schema/ids.js';
import { db } from '../../src/platform/db.js';
import { CANCEL, START, step, useWorkflows, WORKFLOW } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();

/** An agent deleted once the plan names it: its RETRIEVE fails (not retryable). */
async function doomedAgent() {
  const agent = await w.createAgent(`Doomed ${Math.random().toString(36).slice(2, 6)}`, ['pg']);
  return {
    id: agent.id,
    remove: () => w.h.gql('mutation($id: ID!) { deleteAgent(id: $id) }', { id: agent.id }),
  };
}

const statuses = (workflow: any) =>
  Object.fromEntries(workflow.steps.map((s: any) => [s.key, s.status]));

describe('failure policies', () => {
  it('FAIL_WORKFLOW (the default) cancels every other step and aborts the running one', async () => {
    const doomed = await doomedAgent();
    const plan = await w.planWith([
      step('slow', 'NOOP', { input: { waitMs: 60_000 } }),
      step('bad', 'RETRIEVE', { agentId: doomed.id, dependsOn: ['gate'] }),
      step('gate', 'NOOP', { input: { waitMs: 200 } }),
      step('after', 'NOOP', { dependsOn: ['bad'] }),
    ]);
    await doomed.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    // Not a speed assertion: the slow step would take 60 s; the wait gives up long before.
    const failed = await w.waitForStatus(plan.id, ['FAILED', 'SUCCEEDED']);
    expect(failed.status).toBe('FAILED');
    expect(statuses(failed)).toEqual({
      slow: 'CANCELLED',
      bad: 'FAILED',
      gate: 'SUCCEEDED',
      after: 'CANCELLED',
    });
    expect(failed.error).toContain('bad');
    const slowTask = failed.steps.find((s: any) => s.key === 'slow').task;
    const ended = await w.waitFor(async () => {
      const task = await db().task.findUnique({
        where: { id: rowId(slowTask.id) },
      });
      return task?.status === 'CANCELLED' ? task : undefined;
    }, 'the running step aborted');
    expect(ended.status).toBe('CANCELLED');
  });

  it('SKIP lets dependents run and see which inputs failed; the workflow succeeds', async () => {
    const doomed = await doomedAgent();
    const plan = await w.planWith([
      step('ok', 'RETRIEVE', { agentId: w.agents[0]!.id }),
      step('bad', 'RETRIEVE', { agentId: doomed.id, failurePolicy: 'SKIP' }),
      step('write', 'WRITE_SECTION', {
        dependsOn: ['ok', 'bad'],
        input: { title: 'Both', description: 'both' },
      }),
    ]);
    await doomed.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const done = await w.waitForStatus(plan.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses(done)).toEqual({ ok: 'SUCCEEDED', bad: 'SKIPPED', write: 'SUCCEEDED' });
    const write = done.steps.find((s: any) => s.key === 'write');
    expect(write.result.failedInputs).toEqual(['bad']);
    expect(done.steps.find((s: any) => s.key === 'bad').error).toContain('deleted');
  });

  it('SKIP_BRANCH skips what depends on the failed step, and the rest runs', async () => {
    const doomed = await doomedAgent();
    const plan = await w.planWith(
      [
        step('bad', 'RETRIEVE', { agentId: doomed.id }),
        step('child', 'NOOP', { dependsOn: ['bad'] }),
        step('grandchild', 'NOOP', { dependsOn: ['child', 'other'] }),
        step('other', 'NOOP'),
      ],
      { failurePolicy: 'SKIP_BRANCH' },
    );
    await doomed.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const done = await w.waitForStatus(plan.id, ['FAILED', 'SUCCEEDED']);
    expect(statuses(done)).toEqual({
      bad: 'SKIPPED',
      child: 'SKIPPED',
      grandchild: 'SKIPPED',
      other: 'SUCCEEDED',
    });
    expect(done.status).toBe('SUCCEEDED');
    // A skipped step's event says it is resolved (100), as the workflow's progress counts it.
    const { workflow } = await w.gqlOk(WORKFLOW, { id: plan.id });
    const skipped = workflow.events.filter((e: any) => e.status === 'SKIPPED');
    expect(skipped.map((e: any) => [e.stepKey, e.progressPercent])).toEqual([
      ['bad', 100],
      ['child', 100],
      ['grandchild', 100],
    ]);
  });

  it('REPLAN writes a new tail for what has not started (a new plan version)', async () => {
    const doomed = await doomedAgent();
    const plan = await w.planWith([
      step('ok', 'RETRIEVE', { agentId: w.agents[0]!.id }),
      step('bad', 'RETRIEVE', { agentId: doomed.id, failurePolicy: 'REPLAN' }),
      step('write', 'WRITE_SECTION', {
        dependsOn: ['ok', 'bad'],
        input: { title: 'T', description: 'd' },
      }),
    ]);
    await doomed.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const done = await w.waitForStatus(plan.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.planVersion).toBe(3);
    const write = done.steps.find((s: any) => s.key === 'write');
    // The new tail still depends on the failed step, over already: it runs without it and
    // names it among its failed inputs, as under SKIP.
    expect(write).toMatchObject({ status: 'SUCCEEDED', dependsOn: ['ok', 'bad'] });
    expect(write.result.failedInputs).toEqual(['bad']);
    expect(done.events.filter((e: any) => e.kind === 'PLAN')).toHaveLength(2);
  });

  it('REPLAN waits for the new plan, which goes around steps whose agent is gone', async () => {
    const second = await doomedAgent();
    const chain = await w.planWith(
      [
        step('b1', 'RETRIEVE', { agentId: second.id }),
        step('b2', 'RETRIEVE', { agentId: second.id }),
        step('after', 'NOOP', { dependsOn: ['b2'] }),
      ],
      { failurePolicy: 'REPLAN', maxParallelSteps: 1 },
    );
    await second.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: chain.id, v: chain.planVersion });
    const done = await w.waitForStatus(chain.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses(done)).toEqual({ b1: 'SKIPPED', after: 'SUCCEEDED' });
    expect(done.steps.find((s: any) => s.key === 'after').dependsOn).toEqual([]);
    // Nothing started while the replan was awaited: b2 never ran, `after` ran under the new plan.
    const order = done.events
      .filter((e: any) => e.kind === 'PLAN' || (e.kind === 'STEP' && e.status === 'RUNNING'))
      .map((e: any) => e.stepKey ?? 'PLAN');
    expect(order).toEqual(['PLAN', 'b1', 'PLAN', 'after']);
  });

  it('REPLAN: failures while a replan is pending join it, and only replans made count', async () => {
    // Three steps fail at once (their agents deleted): the first asks for a replan, the other
    // two end while it is pending. Counted as three replans, the third would pass the limit of
    // two and fail the workflow; one replan covers all three.
    const doomed = await Promise.all([doomedAgent(), doomedAgent(), doomedAgent()]);
    const plan = await w.planWith(
      [
        ...doomed.map((agent, i) => step(`bad${i}`, 'RETRIEVE', { agentId: agent.id })),
        step('write', 'WRITE_SECTION', {
          dependsOn: ['bad0', 'bad1', 'bad2'],
          input: { title: 'T', description: 'd' },
        }),
      ],
      { failurePolicy: 'REPLAN', maxParallelSteps: 3 },
    );
    for (const agent of doomed) await agent.remove();
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const done = await w.waitForStatus(plan.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses(done)).toMatchObject({ bad0: 'SKIPPED', bad1: 'SKIPPED', bad2: 'SKIPPED' });
    const landed = done.events.filter((e: any) => e.kind === 'PLAN').length - 1;
    const row = await db().workflow.findUniqueOrThrow({ where: { id: rowId(plan.id) } });
    expect(row.replans).toBe(landed);
    expect(row.replans).toBeLessThanOrEqual(row.maxReplans);
    expect(row.replanTaskId).toBeNull();
  });

  it('cancelWorkflow stops the workflow, its steps and their tasks at once, and repeating it changes nothing', async () => {
    const plan = await w.planWith([
      step('long', 'NOOP', { input: { waitMs: 60_000 } }),
      step('next', 'NOOP', { dependsOn: ['long'] }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    await w.waitFor(
      async () => (await w.workflowOf(plan.id)).steps[0].status === 'RUNNING',
      'the long step running',
    );
    const cancelled = (await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow;
    expect(cancelled.status).toBe('CANCELLED');
    expect(statuses(cancelled)).toEqual({ long: 'CANCELLED', next: 'CANCELLED' });
    const workflowId = parseGlobalId('Workflow', plan.id)!;
    const events = await db().workflowEvent.count({ where: { workflowId } });
    expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
    expect(await db().workflowEvent.count({ where: { workflowId } })).toBe(events);
    const taskId = rowId(cancelled.steps[0].task.id);
    await w.waitFor(
      async () => (await db().task.findUnique({ where: { id: taskId } }))?.status === 'CANCELLED',
      'the running task aborted',
    );
  });

  it('settles the running steps a cancel ends together, not a transaction each', async () => {
    const keys = Array.from({ length: 32 }, (_, i) => `s${i}`);
    const plan = await w.planWith(
      keys.map((key) => step(key, 'NOOP', { input: { waitMs: 60_000 } })),
      { maxParallelSteps: 32 },
    );
    await w.startWorker({ concurrency: 32, batchSize: 32 });
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    await w.waitFor(async () => {
      const workflow = await w.workflowOf(plan.id);
      return workflow.steps.every((s: any) => s.status === 'RUNNING');
    }, 'every step running');
    const taskIds = (await w.workflowOf(plan.id)).steps.map((s: any) => rowId(s.task.id));
    const from = w.h.queryLog.length;

    await w.gqlOk(CANCEL, { id: plan.id });
    await w.waitFor(async () => {
      const tasks = await db().task.findMany({ where: { id: { in: taskIds } } });
      return tasks.every((task) => task.status === 'CANCELLED');
    }, 'every task aborted');
    // Each locks the workflow to settle: 32 transactions at once held as many pooled
    // connections waiting on one lock (a pool of 10 ran dry: "after-finish hook failed").
    const locks = () =>
      w.h.queryLog
        .slice(from)
        .filter((sql) => /FROM workflows WHERE id = ANY\(.*FOR UPDATE/s.test(sql));
    // Their after-finish steps follow their ends (given a moment: nothing announces them).
    await w.waitFor(async () => locks().length > 0, 'the ends settled');
    await sleep(500);
    expect(locks().length).toBeLessThanOrEqual(8);
  });
});
