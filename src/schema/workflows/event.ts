// WorkflowEvent and the workflowProgress subscription: the state now, then every
// workflow and step event in sequence order until the workflow ends; a resume with
// afterSequence replays the log from there, without gaps or repeats. The workflow's team only.
import { builder } from '../builder.js';
import { rowIdOrNone } from '../ids.js';
import { checkAfterSequence } from '../log-position.js';
import type { WorkflowEventRow } from '../../services/workflows/events.js';
import { requireWorkflowForCaller } from '../../services/workflows/read.js';

export const WorkflowEvent = builder.objectRef<WorkflowEventRow>('WorkflowEvent').implement({
  description: "An entry of a workflow's log.",
  fields: (t) => ({
    sequence: t.exposeInt('sequence', {
      description: 'Per workflow, from 1, without gaps: resume with afterSequence.',
    }),
    kind: t.exposeString('kind', {
      description:
        'STATE (the first entry of a subscription: the workflow now, at its last sequence), ' +
        "WORKFLOW (the workflow's status changed), STEP (a step's status changed), PROGRESS " +
        "(a running step's progress, at most 4 a second per step) or PLAN (the plan was " +
        'edited or replanned).',
    }),
    stepKey: t.exposeString('stepKey', { nullable: true }),
    status: t.exposeString('status', {
      description:
        'The workflow status (STATE, WORKFLOW, PLAN) or the step status (STEP, PROGRESS).',
    }),
    progressPercent: t.exposeInt('progressPercent'),
    message: t.exposeString('message', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

builder.subscriptionField('workflowProgress', (t) =>
  t.field({
    type: WorkflowEvent,
    description:
      'The state now (or every event after afterSequence, from the log), then every workflow ' +
      'and step event; ends after the workflow ends (the last end of its log: a replay ' +
      'across a cancel that a retry went on from follows the retry). afterSequence is a ' +
      'sequence received: 0 to the last, else BAD_USER_INPUT (reason NEGATIVE or ' +
      'AFTER_LAST_EVENT).',
    authScopes: { read: true },
    args: { workflowId: t.arg.id({ required: true }), afterSequence: t.arg.int() },
    subscribe: async (_root, { workflowId, afterSequence }, ctx) => {
      const workflow = await requireWorkflowForCaller(
        rowIdOrNone('Workflow', workflowId),
        ctx.caller,
      );
      checkAfterSequence(afterSequence, workflow.lastSequence);
      return ctx.feeds.workflows.follow(workflow.id, afterSequence);
    },
    resolve: (event) => event,
  }),
);
