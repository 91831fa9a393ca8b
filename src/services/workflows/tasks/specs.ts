// The task types workflows enqueue: one task per step run (workflow_step), and the replan a
// REPLAN failure asks for (workflow_replan). Declared here, run in src/workers/tasks.
import { z } from 'zod';
import { taskSpec } from '../../../queue/task-spec.js';

export const workflowStep = taskSpec({
  name: 'workflow_step',
  payload: z.object({ workflowId: z.guid(), stepId: z.guid() }),
  maxAttempts: 3,
  timeoutSeconds: 600,
});

export const workflowReplan = taskSpec({
  name: 'workflow_replan',
  payload: z.object({ workflowId: z.guid(), failedStepKey: z.string() }),
  maxAttempts: 3,
  timeoutSeconds: 120,
});
