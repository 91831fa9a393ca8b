// A team's endpoint subscribed to task ends, while a workflow of the team runs: a step that
// ended before its task row was written is recorded on its step alone (docs/workflows.md), so
// no task.completed names a task no one can read; the step tasks that have rows are sent, and
// the workflow's own end.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { useHarness } from '../utils/harness.js';
import { rowId } from '../utils/ids.js';
import { teamWithMember } from '../utils/teams.js';
import { waitFor } from '../utils/wait.js';
import { verifyWith, webhookReceiver } from '../utils/webhook-receiver.js';
import { PLAN, START, step, UPDATE } from '../workflows/fixture.js';
import { createEndpoint } from './fixture.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

async function ok(query: string, variables: Record<string, unknown>, key: string) {
  const response = await h.gql(query, variables, key);
  expect(response.errors, query.slice(0, 40)).toBeUndefined();
  return response.data;
}

describe('webhook endpoints and workflow steps', () => {
  it('send task.completed only for step tasks that have rows, and the workflow’s end', async () => {
    const team = await teamWithMember(h, 'hooks-steps');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, [
      'task.completed',
      'workflow.completed',
    ]);
    const app = await h.startApp();
    const planned = (await ok(PLAN, { input: { goal: 'a chain', agentIds: [] } }, team.owner))
      .planWorkflow;
    const chain = Array.from({ length: 10 }, (_, i) =>
      step(`s${i}`, 'NOOP', i ? { dependsOn: [`s${i - 1}`] } : {}),
    );
    const edited = (
      await ok(UPDATE, { id: planned.id, v: planned.planVersion, steps: chain }, team.owner)
    ).updateWorkflowPlan;
    await ok(START, { id: edited.id, v: edited.planVersion }, team.owner);
    await h.startWorker(app.pubsub);
    const bodies = await waitFor(async () => {
      const verified = hook.received.map((request) => verifyWith(endpoint.secret, request) as any);
      return verified.some((body) => body.type === 'workflow.completed') ? verified : undefined;
    }, 'the workflow’s end sent');

    const steps = await db().workflowStep.findMany({ where: { workflowId: rowId(edited.id) } });
    const taskIds = steps.map((s) => s.taskId!);
    const rows = await db().task.findMany({ where: { id: { in: taskIds } }, select: { id: true } });
    const withRows = new Set(rows.map((row) => row.id));
    // The chain's continuations that ended at once: their runs are on their steps alone.
    const rowless = taskIds.filter((id) => !withRows.has(id));
    expect(rowless.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.status === 'SUCCEEDED')).toBe(true);
    // Every task.completed names a task that exists, and each step task row is sent once.
    await waitFor(
      async () =>
        (await db().webhookMessage.count({ where: { endpointId: rowId(endpoint.id) } })) ===
          withRows.size + 1 || undefined,
      'every message queued',
    );
    const messages = await db().webhookMessage.findMany({
      where: { endpointId: rowId(endpoint.id) },
    });
    const sentTasks = messages
      .filter((message) => message.eventType === 'task.completed')
      .map((message) => rowId((message.payload as { data: { taskId: string } }).data.taskId))
      .sort();
    expect(sentTasks).toEqual([...withRows].sort());
    expect(messages.filter((message) => message.eventType === 'workflow.completed')).toHaveLength(
      1,
    );
    expect(bodies.find((body) => body.type === 'workflow.completed')).toMatchObject({
      data: { workflowId: edited.id, status: 'SUCCEEDED' },
    });
  });
});
