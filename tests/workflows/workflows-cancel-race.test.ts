// cancelWorkflow racing a worker's claim: a step's task claimed just before its
// workflow was cancelled finds the step no longer its to run; it ends CANCELLED, as the
// cancellation asked, not FAILED (a failure it never had).
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { endWorkflow } from '../../src/services/workflows/sql/end-workflow.js';
import { lockWorkflows } from '../../src/services/workflows/sql/lock-workflows.js';
import { CANCEL, PLAN, START, step, UPDATE, useWorkflows } from './fixture.js';

const w = useWorkflows();
const localId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

async function planned(goal: string) {
  const plan = (await w.gqlOk(PLAN, { input: { goal, agentIds: [], planner: 'LOCAL' } }))
    .planWorkflow;
  return (
    await w.gqlOk(UPDATE, {
      id: plan.id,
      v: 1,
      steps: [step('long', 'NOOP', { input: { waitMs: 60_000 } })],
    })
  ).updateWorkflowPlan;
}

const stepTasksOf = (workflowId: string) =>
  db().task.findMany({
    where: { type: 'workflow_step', payload: { path: ['workflowId'], equals: workflowId } },
    select: { id: true, status: true, error: true },
  });

const ended = (workflowId: string) =>
  w.waitFor(async () => {
    const tasks = await stepTasksOf(workflowId);
    return tasks.every((t) => !['PENDING', 'RUNNING'].includes(t.status)) ? tasks : undefined;
  }, 'the step tasks ended');

describe('cancelWorkflow racing a claim', () => {
  it('ends a claimed task CANCELLED when its workflow was cancelled before the step started', async () => {
    const plan = await planned('cancel between claim and start');
    const id = localId(plan.id);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    // The workflow's row held: the claim commits without starting the step, and the run's
    // start waits for the row; the cancellation (cancelWorkflow's statement) commits first.
    await inTransaction(
      async (tx) => {
        await lockWorkflows(tx.client, [id]);
        await w.startWorker();
        await w.waitFor(async () => {
          const [waiting] = await db().$queryRaw<Array<{ n: number }>>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`;
          return waiting!.n > 0 || undefined;
        }, 'the step start waiting for the workflow');
        const [task] = await stepTasksOf(id);
        expect(task!.status).toBe('RUNNING');
        await endWorkflow(tx.client, id, {
          from: ['PLANNED', 'RUNNING'],
          to: 'CANCELLED',
          message: 'cancelled by the test',
          error: null,
        });
      },
      { timeout: 30_000 },
    );
    const tasks = await ended(id);
    expect(tasks.map((t) => t.status)).toEqual(['CANCELLED']);
    const workflow = await w.workflowOf(plan.id);
    expect(workflow.status).toBe('CANCELLED');
    expect(workflow.steps.map((s: any) => s.status)).toEqual(['CANCELLED']);
  });

  it('ends every step task CANCELLED when the cancel follows the start by 0-6 ms', async () => {
    await w.startWorker();
    for (let round = 0; round < 7; round++) {
      const plan = await planned(`cancel race ${round}`);
      await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
      await new Promise((resolve) => setTimeout(resolve, round));
      expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
      const tasks = await ended(localId(plan.id));
      expect(tasks.map((t) => t.status)).toEqual(tasks.map(() => 'CANCELLED'));
    }
  });
});
