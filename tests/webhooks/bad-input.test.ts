// What endpoints refuse: another team's endpoint or delivery is NOT_FOUND whatever is asked of
// it, a URL that fails the SSRF check is BAD_USER_INPUT naming input.url, an unknown event type is
// BAD_USER_INPUT naming input.eventTypes, and a member who does not administer the team may not
// register one.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { teamWithMember } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { webhookReceiver } from '../utils/webhook-receiver.js';
import { CREATE_ENDPOINT, createEndpoint, ENDPOINT_DELIVERIES } from './fixture.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
afterEach(async () => {
  await h.stopWorkers();
  h.webhooks.allowPrivateTargets = true;
});

const UPDATE = `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { id url } }`;
const DELETE = `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`;
const ROTATE = `mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id, overlapSeconds: 60) { secret } }`;
const GET = `query($id: ID!) { webhookEndpoint(id: $id) { id url } }`;
const LIST = `query($teamId: ID) { webhookEndpoints(teamId: $teamId) { id } }`;
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { webhookId } }`;

/** Registering `url` and moving `endpointId` to it are both BAD_USER_INPUT naming input.url. */
async function expectUrlRefused(
  team: Awaited<ReturnType<typeof teamWithMember>>,
  endpointId: string,
  url: string,
) {
  const created = await h.gql(
    CREATE_ENDPOINT,
    { input: { teamId: team.teamId, url, eventTypes: ['task.completed'] } },
    team.owner,
  );
  expect(errorCodes(created), url).toEqual(['BAD_USER_INPUT']);
  expect(created.errors![0]!.extensions).toMatchObject({ argument: 'input.url', field: 'url' });
  const updated = await h.gql(UPDATE, { id: endpointId, input: { url } }, team.owner);
  expect(errorCodes(updated), url).toEqual(['BAD_USER_INPUT']);
  expect(updated.errors![0]!.extensions).toMatchObject({ argument: 'input.url' });
  return { created, updated };
}

describe('webhook endpoint refusals', () => {
  it("answers NOT_FOUND for another team's endpoint and delivery, whatever is asked", async () => {
    const a = await teamWithMember(h, 'hooks-team-a');
    const b = await teamWithMember(h, 'hooks-team-b');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, a.owner, a.teamId, hook.url, ['task.completed']);
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      {
        ownerId: a.ownerUserId,
        teamId: a.teamRowId,
      },
    );
    const delivery = await waitFor(async () => {
      const edges = (await h.gql(ENDPOINT_DELIVERIES, { id: endpoint.id }, a.owner)).data
        .webhookEndpoint.deliveries.edges;
      return edges[0]?.node;
    }, 'a delivery');

    const asked = {
      get: await h.gql(GET, { id: endpoint.id }, b.owner),
      deliveries: await h.gql(ENDPOINT_DELIVERIES, { id: endpoint.id }, b.owner),
      update: await h.gql(UPDATE, { id: endpoint.id, input: { enabled: false } }, b.owner),
      rotate: await h.gql(ROTATE, { id: endpoint.id }, b.owner),
      delete: await h.gql(DELETE, { id: endpoint.id }, b.owner),
      list: await h.gql(LIST, { teamId: a.teamId }, b.owner),
      redeliver: await h.gql(REDELIVER, { id: delivery.id }, b.owner),
    };
    for (const [what, response] of Object.entries(asked))
      expect(errorCodes(response), what).toEqual(['NOT_FOUND']);
    // Nothing changed, and the owner still sees it all.
    const row = await db().webhookEndpoint.findUniqueOrThrow({
      where: { id: rowId(endpoint.id) },
    });
    expect(row.enabled).toBe(true);
    expect(row.previousExpiresAt).toBeNull();
    expect((await h.gql(LIST, { teamId: a.teamId }, a.owner)).data.webhookEndpoints).toEqual([
      { id: endpoint.id },
    ]);
    // A member reads the endpoint but may not change it or redeliver: FORBIDDEN, not hidden.
    expect(errorCodes(await h.gql(GET, { id: endpoint.id }, a.member))).toEqual([]);
    expect(errorCodes(await h.gql(ROTATE, { id: endpoint.id }, a.member))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await h.gql(REDELIVER, { id: delivery.id }, a.member))).toEqual([
      'FORBIDDEN',
    ]);
  });

  it('refuses a URL with a fragment or credentials, naming input.url, private targets allowed', async () => {
    const team = await teamWithMember(h, 'hooks-fragment');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const withCredentials = hook.url.replace('http://', 'http://user:secret@');
    for (const [url, problem] of [
      [`${hook.url}#fragment`, 'fragment'],
      [`${hook.url}#`, 'fragment'],
      [withCredentials, 'credentials'],
    ] as const) {
      const { created } = await expectUrlRefused(team, endpoint.id, url);
      expect(created.errors![0]!.message, url).toContain(problem);
    }
    const row = await db().webhookEndpoint.findUniqueOrThrow({ where: { id: rowId(endpoint.id) } });
    expect(row.url).toBe(hook.url);
    expect(await db().webhookEndpoint.count({ where: { teamId: team.teamRowId } })).toBe(1);
  });

  it('refuses a URL failing the SSRF check, naming input.url, at registration and update', async () => {
    const team = await teamWithMember(h, 'hooks-ssrf');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    h.webhooks.allowPrivateTargets = false;
    for (const url of ['https://127.0.0.1/hook', 'https://169.254.169.254/latest', hook.url]) {
      await expectUrlRefused(team, endpoint.id, url);
    }
    expect(await db().webhookEndpoint.count({ where: { teamId: team.teamRowId } })).toBe(1);
    const row = await db().webhookEndpoint.findUniqueOrThrow({
      where: { id: rowId(endpoint.id) },
    });
    expect(row.url).toBe(hook.url);
  });

  it('refuses an unknown event type, naming input.eventTypes, and a member registering one', async () => {
    const team = await teamWithMember(h, 'hooks-types');
    const hook = await webhookReceiver(h);
    const unknown = await h.gql(
      CREATE_ENDPOINT,
      {
        input: {
          teamId: team.teamId,
          url: hook.url,
          eventTypes: ['task.completed', 'task.exploded'],
        },
      },
      team.owner,
    );
    expect(errorCodes(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0]!.extensions).toMatchObject({
      argument: 'input.eventTypes',
      unknown: ['task.exploded'],
    });
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const updated = await h.gql(
      UPDATE,
      { id: endpoint.id, input: { eventTypes: ['TASK_COMPLETED'] } },
      team.owner,
    );
    expect(errorCodes(updated)).toEqual(['BAD_USER_INPUT']);
    expect(updated.errors![0]!.extensions).toMatchObject({ argument: 'input.eventTypes' });

    const byMember = await h.gql(
      CREATE_ENDPOINT,
      { input: { teamId: team.teamId, url: hook.url, eventTypes: ['task.completed'] } },
      team.member,
    );
    expect(errorCodes(byMember)).toEqual(['FORBIDDEN']);
    expect(await db().webhookEndpoint.count({ where: { teamId: team.teamRowId } })).toBe(1);
  });
});
