// An INTEGRATION end to end: report.completed emitted by the real emitter becomes a message at
// the plugin's endpoint and a webhook_delivery task a real worker runs; the Slack example's
// POST reaches a local stand-in for hooks.slack.com (PLUGIN_ORIGIN_OVERRIDES), rendered from
// the event with nothing ungranted in it and signed with the endpoint's secret. testPlugin
// answers what the stand-in said (ok, 400, 404, 429 with Retry-After, too slow, too large);
// 20 failed deliveries in a row disable the plugin, a success resets the count.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { publicId } from '../../src/platform/public-ids.js';
import { emitWebhookEvent } from '../../src/services/webhooks/emit.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { teamWithMember, type TeamWithMember } from '../utils/teams.js';
import { waitFor } from '../utils/wait.js';
import { verifyWith } from '../utils/webhook-receiver.js';
import { rowId } from '../utils/ids.js';
import { example, install, slackInput, standIn, TEST, UPDATE, type StandIn } from './fixture.js';

const h = useHarness();
afterEach(() => h.stopWorkers());
const SLACK = 'https://hooks.slack.com/services/T000/B000';

let stand: StandIn;
let app: TestApp;
beforeAll(async () => {
  stand = await standIn(h);
  h.webhooks.pluginOriginOverrides = { 'https://hooks.slack.com': stand.origin };
  app = await h.startApp();
});

/** A finished report of the team (a topic and its artifact), as report generation leaves one. */
async function report(team: TeamWithMember, title: string) {
  const topic = await db().topic.create({
    data: { teamId: team.teamRowId, ownerId: team.ownerUserId, topic: title, status: 'COMPLETED' },
  });
  await db().artifact.create({
    data: { topicId: topic.id, markdown: `# ${title}\n\nsecret findings\n` },
  });
  return topic;
}

/** report.completed of the topic, through the real emitter. */
const emitCompleted = (team: TeamWithMember, topicId: string) =>
  emitWebhookEvent(
    {
      type: 'report.completed',
      teamId: team.teamRowId,
      ownerId: team.ownerUserId,
      data: { topicId: publicId('Topic', topicId), taskId: null, status: 'COMPLETED' },
    },
    {},
    { pubsub: app.pubsub, webhooks: h.webhooks },
  );

const received = (path: string) => stand.received.filter((request) => request.path === path);

describe('integration plugins', () => {
  it('posts the Slack example for report.completed, rendered from the event and signed', async () => {
    const team = await teamWithMember(h, 'slack-ok');
    const installed = await install(h, team.owner, slackInput(team.teamId, `${SLACK}/ok`));
    // The endpoint's signing secret, as its administrator gets it.
    const rotated = await h.gql(
      `mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id, overlapSeconds: 0) { secret } }`,
      { id: installed.webhookEndpoint.id },
      team.owner,
    );
    const secret = rotated.data.rotateWebhookEndpointSecret.secret as string;
    const topic = await report(team, 'Quarterly "growth" review');
    await h.startWorker(app.pubsub);
    await emitCompleted(team, topic.id);
    const request = await waitFor(async () => received('/services/T000/B000/ok')[0], 'the POST');
    expect(request!.method).toBe('POST');
    expect(request!.headers.host).toBe('hooks.slack.com');
    // Valid JSON however the title is quoted; the Markdown was not granted and is not there.
    expect(JSON.parse(request!.body)).toEqual({
      channel: '#reports',
      text: 'Report ready: Quarterly "growth" review',
    });
    expect(request!.body).not.toContain('secret findings');
    expect(
      verifyWith(secret, { headers: request!.headers, body: request!.body, json: null }),
    ).toEqual(JSON.parse(request!.body));
    // Recorded as the endpoint's delivery, under the URL's template (never the secret in it).
    const delivery = await waitFor(
      () =>
        db().webhookDelivery.findFirst({
          where: { endpointId: rowId(installed.webhookEndpoint.id) },
        }),
      'the delivery row',
    );
    expect(delivery).toMatchObject({
      succeeded: true,
      statusCode: 200,
      url: '{{secrets.SLACK_WEBHOOK_URL}}',
    });
  });

  it('refuses an event type it was not granted, even when its endpoint is named as a target', async () => {
    const team = await teamWithMember(h, 'slack-scope');
    const installed = await install(h, team.owner, slackInput(team.teamId, `${SLACK}/scope`));
    const topic = await report(team, 'Not for this plugin');
    await h.startWorker(app.pubsub);
    // report.failed, sent to the plugin's endpoint by name (as a workflow's webhookEndpointId).
    await emitWebhookEvent(
      {
        type: 'report.failed',
        teamId: team.teamRowId,
        ownerId: team.ownerUserId,
        data: { topicId: publicId('Topic', topic.id), status: 'FAILED' },
      },
      { subscribed: false, endpointId: rowId(installed.webhookEndpoint.id) },
      { pubsub: app.pubsub, webhooks: h.webhooks },
    );
    const delivery = await waitFor(
      () =>
        db().webhookDelivery.findFirst({
          where: { endpointId: rowId(installed.webhookEndpoint.id) },
        }),
      'the refused delivery',
    );
    expect(delivery).toMatchObject({ succeeded: false, statusCode: null });
    expect(delivery!.error).toContain('not granted events:report.failed');
    expect(received('/services/T000/B000/scope')).toEqual([]);
  });

  it('renders the topic Markdown only once data:topic.markdown is granted', async () => {
    const team = await teamWithMember(h, 'slack-markdown');
    const manifest = {
      ...example('slack-notifier'),
      name: 'slack-digest',
      scopes: [...example('slack-notifier').scopes, 'data:topic.markdown'],
      request: {
        url: '{{secrets.SLACK_WEBHOOK_URL}}',
        body: { text: '{{event.topic.title}}', markdown: '{{event.topic.markdown}}' },
      },
    };
    const base = slackInput(team.teamId, `${SLACK}/markdown`);
    const installed = await install(h, team.owner, { ...base, manifest });
    const topic = await report(team, 'Digest');
    await h.startWorker(app.pubsub);
    await emitCompleted(team, topic.id);
    const first = await waitFor(
      async () => received('/services/T000/B000/markdown')[0],
      'the first POST',
    );
    expect(JSON.parse(first.body)).toEqual({ text: 'Digest', markdown: '' });

    const granted = await h.gql(
      UPDATE,
      { id: installed.id, input: { grantedScopes: manifest.scopes } },
      team.owner,
    );
    expect(granted.errors).toBeUndefined();
    await emitCompleted(team, topic.id);
    const second = await waitFor(
      async () => received('/services/T000/B000/markdown')[1],
      'the second POST',
    );
    expect(JSON.parse(second.body)).toEqual({
      text: 'Digest',
      markdown: '# Digest\n\nsecret findings\n',
    });
  });

  it('answers testPlugin with what the receiver said, naming a bound it broke', async () => {
    const team = await teamWithMember(h, 'slack-test');
    const installed = await install(h, team.owner, slackInput(team.teamId, `${SLACK}/ok`));
    const testWith = async (last: string) => {
      const updated = await h.gql(
        UPDATE,
        {
          id: installed.id,
          input: { secrets: [{ name: 'SLACK_WEBHOOK_URL', value: `${SLACK}/${last}` }] },
        },
        team.owner,
      );
      expect(updated.errors).toBeUndefined();
      const response = await h.gql(
        TEST,
        { id: installed.id, type: 'report.completed' },
        team.owner,
      );
      expect(response.errors, last).toBeUndefined();
      return response.data.testPlugin;
    };
    expect(await testWith('ok')).toMatchObject({
      ok: true,
      status: 200,
      bodyExcerpt: 'ok',
      error: null,
    });
    expect(await testWith('400')).toMatchObject({
      ok: false,
      status: 400,
      bodyExcerpt: '{"error":"invalid_payload"}',
    });
    expect(await testWith('404')).toMatchObject({
      ok: false,
      status: 404,
      bodyExcerpt: 'no_service',
    });
    expect(await testWith('429')).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 7 });
    expect(await testWith('slow')).toMatchObject({
      ok: false,
      status: null,
      bodyExcerpt: null,
      failure: 'TIMEOUT',
    });
    const huge = await testWith('huge');
    expect(huge).toMatchObject({
      ok: false,
      status: null,
      bodyExcerpt: null,
      failure: 'REPLY_TOO_LARGE',
    });
    expect(huge.error).toMatch(/256 KB/);
    // The sample event was rendered like a real one.
    const sample = received('/services/T000/B000/ok').at(-1)!;
    expect(JSON.parse(sample.body)).toEqual({
      channel: '#reports',
      text: 'Report ready: A sample report',
    });
    // Tests are not deliveries: nothing counted.
    expect(
      await db().pluginInstallation.findUniqueOrThrow({ where: { id: rowId(installed.id) } }),
    ).toMatchObject({ consecutiveFailures: 0, status: 'ACTIVE' });
    const wrongType = await h.gql(TEST, { id: installed.id, type: 'task.completed' }, team.owner);
    expect(wrongType.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'eventType',
    });
  });

  it('disables the plugin after 20 failed deliveries in a row; a success resets the count', async () => {
    const team = await teamWithMember(h, 'slack-fail');
    const installed = await install(h, team.owner, slackInput(team.teamId, `${SLACK}/fail/400`));
    const id = rowId(installed.id);
    const row = () => db().pluginInstallation.findUniqueOrThrow({ where: { id } });
    const topic = await report(team, 'Failing');
    await h.startWorker(app.pubsub);
    for (let i = 0; i < 3; i++) await emitCompleted(team, topic.id);
    await waitFor(async () => (await row()).consecutiveFailures === 3, 'three failures');
    // The receiver is fixed: the next delivery succeeds and the count starts again.
    await h.gql(
      UPDATE,
      {
        id: installed.id,
        input: { secrets: [{ name: 'SLACK_WEBHOOK_URL', value: `${SLACK}/ok` }] },
      },
      team.owner,
    );
    await emitCompleted(team, topic.id);
    await waitFor(async () => (await row()).consecutiveFailures === 0, 'the reset');

    await h.gql(
      UPDATE,
      {
        id: installed.id,
        input: { secrets: [{ name: 'SLACK_WEBHOOK_URL', value: `${SLACK}/fail/400` }] },
      },
      team.owner,
    );
    for (let i = 0; i < 20; i++) await emitCompleted(team, topic.id);
    await waitFor(
      async () => (await row()).status === 'DISABLED_AFTER_FAILURES',
      'the plugin disabled',
    );
    const after = await row();
    expect(after.consecutiveFailures).toBe(20);
    // Once off, its endpoint is sent nothing: the next events make no message.
    await emitCompleted(team, topic.id);
    await waitFor(
      async () =>
        (await db().task.count({ where: { status: { in: ['PENDING', 'RUNNING'] } } })) === 0,
      'the queue to drain',
    );
    expect(received('/services/T000/B000/fail/400')).toHaveLength(23);
    const endpoint = await db().webhookEndpoint.findUniqueOrThrow({
      where: { id: after.webhookEndpointId! },
    });
    expect(endpoint.enabled).toBe(false);
    const audit = await db().pluginAudit.findMany({
      where: { installationId: id, action: 'DISABLE_AFTER_FAILURES' },
    });
    expect(audit).toHaveLength(1);

    const on = await h.gql(UPDATE, { id: installed.id, input: { enabled: true } }, team.owner);
    expect(on.data.updatePluginInstallation).toMatchObject({
      enabled: true,
      status: 'ACTIVE',
      consecutiveFailures: 0,
      webhookEndpoint: { enabled: true },
    });
  });
});
