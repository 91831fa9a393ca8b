// A worker's commit of completed steps does not wait behind another transaction that holds one
// of their workflows (another worker's commit): it commits the steps of the workflows it could
// lock and puts the others off to its next turn (docs/workflows.md, "Running"). Rows and logs
// of a real worker while the test holds one workflow's lock.
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { lockWorkflows } from '../../src/services/workflows/sql/lock-workflows.js';
import { step, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();

/** A started workflow of two no-op steps, b after a; its row id. */
async function started(goal: string): Promise<string> {
  const steps = [step('a', 'NOOP'), step('b', 'NOOP', { dependsOn: ['a'] })];
  return rowId((await w.startWith(steps, { goal, planner: 'LOCAL' })).id);
}

const statusOf = async (workflowId: string) =>
  (await db().workflow.findUniqueOrThrow({ where: { id: workflowId } })).status;

describe('a commit of completed steps', () => {
  it('commits the workflows it can lock and puts off the one another transaction holds', async () => {
    const held = await started('held by another transaction');
    const free = await started('free');
    await inTransaction(
      async (tx) => {
        await lockWorkflows(tx.client, [held]);
        await w.startWorker();
        // Both first steps are claimed together; the free workflow's two commits go through
        // while the held one's lock is taken.
        await w.waitFor(
          async () => ((await statusOf(free)) === 'SUCCEEDED' ? true : undefined),
          'the free workflow to succeed while the other is held',
        );
        const heldSteps = await db().workflowStep.findMany({ where: { workflowId: held } });
        expect(Object.fromEntries(heldSteps.map((s) => [s.key, s.status]))).toEqual({
          a: 'READY',
          b: 'PENDING',
        });
        // Its task ran and ended, but its end waits unwritten with the worker.
        const task = await db().task.findUniqueOrThrow({
          where: { id: heldSteps.find((s) => s.key === 'a')!.taskId! },
        });
        expect(task.status).toBe('RUNNING');
      },
      { timeout: 30_000 },
    );
    await w.waitFor(
      async () => ((await statusOf(held)) === 'SUCCEEDED' ? true : undefined),
      'the held workflow to succeed once released',
    );
    for (const workflowId of [held, free]) {
      const events = await db().workflowEvent.findMany({
        where: { workflowId },
        orderBy: { sequence: 'asc' },
      });
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.kind === 'STEP').map((e) => [e.stepKey, e.status])).toEqual([
        ['a', 'READY'],
        ['a', 'RUNNING'],
        ['a', 'SUCCEEDED'],
        ['b', 'READY'],
        ['b', 'RUNNING'],
        ['b', 'SUCCEEDED'],
      ]);
    }
  });
});
