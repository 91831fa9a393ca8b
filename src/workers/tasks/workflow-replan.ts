// workflow_replan (issue 30 §5): a step failed under REPLAN; the planner writes a new tail
// for the steps not yet started and the workflow goes on. A replan that cannot land (its
// task ended otherwise) fails the workflow in the after-finish step (or the reconciler).
import { db, inTransaction } from '../../platform/db.js';
import { replan, type ReplanDeps } from '../../resolvers/workflows/replan.js';
import {
  noSignals,
  noteWorkflowChange,
  signalAfterCommit,
} from '../../resolvers/workflows/signals.js';
import { endWorkflow } from '../../resolvers/workflows/sql/end-workflow.js';
import { lockWorkflows } from '../../resolvers/workflows/sql/lock-workflows.js';
import { workflowReplan } from '../../resolvers/workflows/step-task.js';
import { defineTask } from '../task-registry.js';

export function workflowReplanTask(settings: Omit<ReplanDeps, 'pubsub'>) {
  return defineTask(workflowReplan, {
    async run({ workflowId, failedStepKey }, { task, pubsub }) {
      const workflow = await db().workflow.findUnique({ where: { id: workflowId } });
      if (!workflow || workflow.status !== 'RUNNING' || workflow.replanTaskId !== task.id)
        return { replanned: false, reason: 'the workflow moved on' };
      const hint = `step ${failedStepKey} failed; plan around it`;
      const replanned = await replan(
        workflow,
        { hint, replanTaskId: task.id },
        { ...settings, pubsub },
      );
      return { replanned };
    },
    async onFinished(task, pubsub) {
      if (task.status === 'COMPLETED') return;
      const { workflowId } = task.payload as { workflowId: string };
      await inTransaction(async (tx) => {
        const message =
          `its replan ended ${task.status}${task.error ? `: ${task.error}` : ''}`.slice(0, 2_000);
        await lockWorkflows(tx.client, [workflowId]);
        const current = await tx.client.workflow.findUnique({
          where: { id: workflowId },
          select: { replanTaskId: true },
        });
        if (current?.replanTaskId !== task.id) return;
        const ended = await endWorkflow(tx.client, workflowId, {
          from: ['RUNNING'],
          to: 'FAILED',
          message,
          error: message,
        });
        const signals = noSignals();
        noteWorkflowChange(signals, workflowId, ended);
        signalAfterCommit(tx, pubsub, signals);
      });
    },
  });
}
