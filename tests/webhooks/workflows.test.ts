// Workflow ends as webhooks, from real runs on a real worker: workflow.completed to the raw URL
// runWorkflow named (signed with the deployment-wide secret) and to the team's subscribed
// endpoint; workflow.failed with the failed step and its error to the endpoint startWorkflow
// named; another team's endpoint is NOT_FOUND and nothing is planned.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { publicId } from '../../src/platform/public-ids.js';
import { errorCodes } from '../utils/graphql.js';
import { verifies, verifyWith, webhookReceiver } from '../utils/webhook-receiver.js';
import { PLAN, RUN, step, UPDATE, useWorkflows } from '../workflows/fixture.js';
import { createEndpoint } from './fixture.js';

const w = useWorkflows();
const { h } = w;

/** alice's team (what her key creates belongs there), as a global id. */
async function aliceTeam(): Promise<string> {
  const key = await db().apiKey.findFirstOrThrow({
    where: { user: { name: 'alice' } },
    select: { teamId: true },
  });
  return publicId('Team', key.teamId);
}

describe('workflow webhooks', () => {
  it('sends workflow.completed to the raw URL and to the subscribed endpoint', async () => {
    const raw = await webhookReceiver(h);
    const hook = await webhookReceiver(h);
    const teamId = await aliceTeam();
    // The operator registers the endpoint (alice's key may not administer her team).
    const endpoint = await createEndpoint(h, h.adminKey, teamId, hook.url, [
      'workflow.completed',
      'workflow.failed',
    ]);
    await w.startWorker();
    const run = await w.gqlOk(RUN, {
      input: { goal: 'webhooks on completion', agentIds: [w.agents[0]!.id], webhookUrl: raw.url },
    });
    const id = run.runWorkflow.id;
    expect((await w.waitForStatus(id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    await w.waitFor(async () => raw.received.length >= 1 && hook.received.length >= 1, 'both');
    const fromRaw = verifyWith(h.webhooks.secret, raw.received[0]!) as any;
    expect(fromRaw).toMatchObject({
      type: 'workflow.completed',
      data: { workflowId: id, status: 'SUCCEEDED', failedSteps: [], error: null },
    });
    expect(verifyWith(endpoint.secret, hook.received[0]!)).toEqual(fromRaw);
    expect(verifies(h.webhooks.secret, hook.received[0]!)).toBe(false);
    // Sent once, whoever noticed the end first (the worker or the reconciler's sweep).
    expect(await db().webhookMessage.count({ where: { eventType: 'workflow.completed' } })).toBe(2);
    // Its own URL's attempts are listed on it (the endpoint's on the endpoint).
    const attempts = await w.waitFor(async () => {
      const read = await w.gqlOk(
        'query($id: ID!) { workflow(id: $id) { webhookDeliveries { url attempt status statusCode } } }',
        { id },
      );
      const listed = read.workflow.webhookDeliveries;
      return listed.length ? listed : undefined;
    }, 'the raw URL attempt on the workflow');
    expect(attempts).toEqual([{ url: raw.url, attempt: 1, status: 'SUCCEEDED', statusCode: 200 }]);
    // Not to another team's reader.
    const bob = await h.gql(
      'query($id: ID!) { workflow(id: $id) { webhookDeliveries { url } } }',
      { id },
      w.keys.bob,
    );
    expect(bob.data?.workflow ?? null).toBeNull();
  });

  it('sends workflow.failed with the failed step and its error to the endpoint startWorkflow named', async () => {
    const hook = await webhookReceiver(h);
    const teamId = await aliceTeam();
    // Named, so sent whatever it subscribes to.
    const endpoint = await createEndpoint(h, h.adminKey, teamId, hook.url, ['task.dead']);
    const doomed = await w.createAgent('Doomed webhook agent', ['pg']);
    const planned = (await w.gqlOk(PLAN, { input: { goal: 'doomed', agentIds: [] } })).planWorkflow;
    const updated = (
      await w.gqlOk(UPDATE, {
        id: planned.id,
        v: 1,
        steps: [
          step('bad', 'RETRIEVE', { agentId: doomed.id }),
          step('after', 'NOOP', { dependsOn: ['bad'] }),
        ],
      })
    ).updateWorkflowPlan;
    await h.gql('mutation($id: ID!) { deleteAgent(id: $id) }', { id: doomed.id });
    await w.startWorker();
    const started = await h.gql(
      `mutation($id: ID!, $v: Int!, $e: ID) { startWorkflow(id: $id, planVersion: $v, webhookEndpointId: $e) { id } }`,
      { id: planned.id, v: updated.planVersion, e: endpoint.id },
      w.keys.alice,
    );
    expect(started.errors).toBeUndefined();
    expect((await w.waitForStatus(planned.id, ['SUCCEEDED', 'FAILED'])).status).toBe('FAILED');
    await w.waitFor(async () => hook.received.length >= 1, 'the failure webhook');
    const body = verifyWith(endpoint.secret, hook.received[0]!) as any;
    expect(body).toMatchObject({
      type: 'workflow.failed',
      data: { workflowId: planned.id, status: 'FAILED' },
    });
    expect(body.data.failedSteps).toEqual([
      { key: 'bad', kind: 'RETRIEVE', error: expect.any(String) },
    ]);
    expect(body.data.failedSteps[0].error.length).toBeGreaterThan(0);
  });

  it("refuses another team's endpoint and a refused URL before planning anything", async () => {
    const hook = await webhookReceiver(h);
    const otherTeam = await h.gql(
      'mutation { createTeam(input: { name: "Other", slug: "wf-hooks-other" }) { id } }',
      {},
    );
    const foreign = await createEndpoint(h, h.adminKey, otherTeam.data.createTeam.id, hook.url, [
      'workflow.completed',
    ]);
    const before = await db().workflow.count();
    const named = await h.gql(
      RUN,
      { input: { goal: 'foreign endpoint', agentIds: [], webhookEndpointId: foreign.id } },
      w.keys.alice,
    );
    expect(errorCodes(named)).toEqual(['NOT_FOUND']);
    const badUrl = await h.gql(
      RUN,
      { input: { goal: 'bad url', agentIds: [], webhookUrl: 'ftp://example.com/x' } },
      w.keys.alice,
    );
    expect(errorCodes(badUrl)).toEqual(['BAD_USER_INPUT']);
    expect(badUrl.errors![0]!.extensions).toMatchObject({
      argument: 'input.webhookUrl',
      field: 'webhookUrl',
    });
    expect(await db().workflow.count()).toBe(before);
  });

  it("sends a coverage refresh's end to the endpoint it named; another team's is NOT_FOUND", async () => {
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, h.adminKey, await aliceTeam(), hook.url, [
      'report.failed',
    ]);
    const refresh = `mutation($agent: ID!, $e: ID) {
      refreshCoverage(input: { agentId: $agent, webhookEndpointId: $e }) { task { id } } }`;
    const foreignTeam = await h.gql(
      'mutation { createTeam(input: { name: "Other 2", slug: "wf-hooks-other-2" }) { id } }',
      {},
    );
    const foreign = await createEndpoint(h, h.adminKey, foreignTeam.data.createTeam.id, hook.url, [
      'task.completed',
    ]);
    const tasksBefore = await db().task.count({ where: { type: 'coverage_refresh' } });
    const refused = await h.gql(refresh, { agent: w.agents[0]!.id, e: foreign.id }, w.keys.alice);
    expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    expect(await db().task.count({ where: { type: 'coverage_refresh' } })).toBe(tasksBefore);

    const queued = await h.gql(refresh, { agent: w.agents[0]!.id, e: endpoint.id }, w.keys.alice);
    expect(queued.errors).toBeUndefined();
    await w.startWorker();
    await w.waitFor(async () => hook.received.length >= 1, 'the task webhook');
    expect(verifyWith(endpoint.secret, hook.received[0]!)).toMatchObject({
      type: 'task.completed',
      data: { taskId: queued.data.refreshCoverage.task.id, type: 'coverage_refresh' },
    });
  });
});
