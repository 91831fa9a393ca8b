// workflow_replan: a step failed under REPLAN; the planner writes a new tail
// for the steps not yet started and the workflow goes on. A replan that cannot land (its
// task ended otherwise) fails the workflow in the after-finish step (or the reconciler).
import { db } from '../../../platform/db.js';
import { defineTask } from '../../../queue/task-definition.js';
import { failWorkflowOfReplan, replan, type ReplanDeps } from '../replan.js';
import { workflowReplan } from './specs.js';

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
      if (task.status !== 'COMPLETED') await failWorkflowOfReplan(task, pubsub);
    },
  });
}
