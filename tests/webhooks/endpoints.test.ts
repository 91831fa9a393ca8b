// A team's webhook endpoints end to end: tasks run by a real worker reach the endpoints
// subscribed to their end, signed with the endpoint's own secret and verified by a real
// receiver with the `standardwebhooks` library; rotation with overlap; redelivery; the
// endpoint's deliveries.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { useHarness } from '../utils/harness.js';
import { teamWithMember } from '../utils/teams.js';
import { enqueueTestTask, testFail, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { verifies, verifyWith, webhookReceiver } from '../utils/webhook-receiver.js';
import { createEndpoint, ENDPOINT_DELIVERIES } from './fixture.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { webhookId task { id } } }`;
const ROTATE = `mutation($id: ID!, $overlap: Int) {
  rotateWebhookEndpointSecret(id: $id, overlapSeconds: $overlap) { secret endpoint { id secretOverlapEndsAt } } }`;

/** The endpoint's deliveries as a member of its team lists them, newest first. */
async function deliveriesOf(endpointId: string, key: string) {
  const listed = await h.gql(ENDPOINT_DELIVERIES, { id: endpointId }, key);
  return listed.data.webhookEndpoint.deliveries.edges.map((edge: any) => edge.node);
}

/** The endpoint's first delivery attempt, once it is listed. */
const firstAttempt = (endpointId: string, key: string) =>
  waitFor(async () => {
    const rows = await deliveriesOf(endpointId, key);
    return rows.length === 1 ? rows[0] : undefined;
  }, 'the first attempt');

describe('webhook endpoints', () => {
  it('sends task.completed, task.failed and task.dead of its team, signed with its secret', async () => {
    const team = await teamWithMember(h, 'hooks-tasks');
    const hook = await webhookReceiver(h);
    const other = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, [
      'task.completed',
      'task.failed',
      'task.dead',
    ]);
    const unsubscribed = await createEndpoint(h, team.owner, team.teamId, other.url, [
      'report.completed',
    ]);
    const app = await h.startApp();
    const owner = { ownerId: team.ownerUserId, teamId: team.teamRowId };
    const completed = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    const failed = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 5, nonRetryable: true },
      owner,
    );
    const dead = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 5 },
      {
        ...owner,
        maxAttempts: 1,
      },
    );
    // Another team's task: not this endpoint's.
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: team.ownerUserId });
    await h.startWorker(app.pubsub);
    await waitFor(async () => hook.received.length >= 3, 'three task webhooks');

    const bodies = hook.received.map((request) => verifyWith(endpoint.secret, request) as any);
    const byTask = new Map(bodies.map((body) => [rowId(body.data.taskId), body]));
    expect(byTask.get(completed.id)).toMatchObject({
      type: 'task.completed',
      data: { status: 'COMPLETED', type: 'test_sleep' },
    });
    expect(byTask.get(failed.id)).toMatchObject({
      type: 'task.failed',
      data: { status: 'FAILED' },
    });
    expect(byTask.get(dead.id)).toMatchObject({ type: 'task.dead', data: { status: 'DEAD' } });
    // Not signed with the deployment-wide secret: a receiver holding it cannot verify.
    expect(verifies(h.webhooks.secret, hook.received[0]!)).toBe(false);
    // Every task of the file has ended: no other message went to either endpoint.
    await waitFor(
      async () =>
        (await db().task.count({ where: { status: { in: ['PENDING', 'RUNNING'] } } })) === 0,
      'the queue to drain',
    );
    expect(await db().webhookMessage.count({ where: { endpointId: rowId(endpoint.id) } })).toBe(3);
    expect(await db().webhookMessage.count({ where: { endpointId: rowId(unsubscribed.id) } })).toBe(
      0,
    );
    expect(hook.received).toHaveLength(3);
  });

  it('signs with both secrets during a rotation overlap, with the new one only after', async () => {
    const team = await teamWithMember(h, 'hooks-rotate');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const rotated = await h.gql(ROTATE, { id: endpoint.id, overlap: 3600 }, team.owner);
    expect(rotated.errors).toBeUndefined();
    const secret = rotated.data.rotateWebhookEndpointSecret.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(endpoint.secret);
    expect(rotated.data.rotateWebhookEndpointSecret.endpoint.secretOverlapEndsAt).not.toBeNull();

    const app = await h.startApp();
    const owner = { ownerId: team.ownerUserId, teamId: team.teamRowId };
    await h.startWorker(app.pubsub);
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    await waitFor(async () => hook.received.length === 1, 'the webhook during the overlap');
    const during = hook.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(endpoint.secret, during)).toBe(true);
    expect(verifies(secret, during)).toBe(true);

    // The overlap ends (as an hour passing would end it).
    await db().webhookEndpoint.update({
      where: { id: rowId(endpoint.id) },
      data: { previousExpiresAt: new Date(Date.now() - 1000) },
    });
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    await waitFor(async () => hook.received.length === 2, 'the webhook after the overlap');
    const after = hook.received[1]!;
    expect(verifies(secret, after)).toBe(true);
    expect(verifies(endpoint.secret, after)).toBe(false);
  });

  it('lists every attempt with its status, code and latency, and redelivers under the same id', async () => {
    const team = await teamWithMember(h, 'hooks-redeliver');
    // 410 Gone: not retried. The redelivery is answered 200.
    const hook = await webhookReceiver(h, (index) => (index === 0 ? 410 : 200));
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      {
        ownerId: team.ownerUserId,
        teamId: team.teamRowId,
      },
    );
    const deliveries = () => deliveriesOf(endpoint.id, team.member);
    const first = await firstAttempt(endpoint.id, team.member);
    expect(first).toMatchObject({ attempt: 1, status: 'FAILED', statusCode: 410, url: hook.url });
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    // A 4xx other than 408 and 429 is not retried: the delivery task failed outright.
    const firstTask = await waitFor(
      () => db().task.findFirst({ where: { type: 'webhook_delivery', status: 'FAILED' } }),
      'the delivery task to fail',
    );
    expect(firstTask.attempts).toBe(1);

    const redelivered = await h.gql(REDELIVER, { id: first.id }, team.owner);
    expect(redelivered.errors).toBeUndefined();
    expect(redelivered.data.redeliverWebhook.webhookId).toBe(first.webhookId);
    const rows = await waitFor(async () => {
      const all = await deliveries();
      return all.length === 2 ? all : undefined;
    }, 'the redelivery');
    expect(rows.map((row: any) => [row.attempt, row.status, row.statusCode])).toEqual([
      [2, 'SUCCEEDED', 200],
      [1, 'FAILED', 410],
    ]);
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.headers['webhook-id']).toBe(hook.received[0]!.headers['webhook-id']);
    expect(verifies(endpoint.secret, hook.received[1]!)).toBe(true);
  });

  it('sends redeliveries made at once one at a time, each one attempt, numbered on', async () => {
    const team = await teamWithMember(h, 'hooks-redeliver-many');
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const owner = { ownerId: team.ownerUserId, teamId: team.teamRowId };
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    const deliveries = () => deliveriesOf(endpoint.id, team.member);
    const first = await firstAttempt(endpoint.id, team.member);

    // Those that find a redelivery still open are given it: never two tasks of one message.
    const redelivered = await Promise.all(
      Array.from({ length: 8 }, () => h.gql(REDELIVER, { id: first.id }, team.owner)),
    );
    expect(redelivered.flatMap((result) => result.errors ?? [])).toEqual([]);
    const taskIds = [
      ...new Set(redelivered.map((result) => rowId(result.data.redeliverWebhook.task.id))),
    ];
    await waitFor(async () => {
      const tasks = await db().task.findMany({ where: { id: { in: taskIds } } });
      return tasks.every((task) => ['COMPLETED', 'FAILED', 'DEAD'].includes(task.status))
        ? tasks
        : undefined;
    }, 'every redelivery to end');
    const tasks = await db().task.findMany({ where: { id: { in: taskIds } } });
    expect(tasks.map((task) => [task.status, task.error, task.maxAttempts])).toEqual(
      taskIds.map(() => ['COMPLETED', null, 1]),
    );
    const rows = await deliveries();
    expect(rows.map((row: any) => row.attempt).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: taskIds.length + 1 }, (_, i) => i + 1),
    );
    expect(hook.received).toHaveLength(taskIds.length + 1);
  });

  it('redelivers a message still retrying as its waiting retry, now, within its attempts', async () => {
    const team = await teamWithMember(h, 'hooks-redeliver-retrying');
    const hook = await webhookReceiver(h, () => 500);
    const endpoint = await createEndpoint(h, team.owner, team.teamId, hook.url, ['task.completed']);
    const delays = h.webhooks.retryDelaysMs;
    // A retry a minute away: the redelivery must not wait for it, nor run beside it.
    h.webhooks.retryDelaysMs = [60_000];
    h.onCleanup(() => void (h.webhooks.retryDelaysMs = delays));
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const owner = { ownerId: team.ownerUserId, teamId: team.teamRowId };
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    const first = await firstAttempt(endpoint.id, team.member);
    const message = await db().webhookMessage.findFirstOrThrow({
      where: { endpointId: rowId(endpoint.id) },
    });
    const ofMessage = {
      type: 'webhook_delivery',
      payload: { path: ['messageId'], equals: message.id },
    };
    const chain = await waitFor(
      () => db().task.findFirst({ where: { ...ofMessage, status: 'PENDING' } }),
      'the retry to wait',
    );
    expect(chain.maxAttempts).toBe(h.webhooks.maxAttempts);

    const redelivered = await h.gql(REDELIVER, { id: first.id }, team.owner);
    expect(redelivered.errors).toBeUndefined();
    expect(rowId(redelivered.data.redeliverWebhook.task.id)).toBe(chain.id);
    await waitFor(async () => hook.received.length === 2, 'the redelivery, sent now');
    expect(await db().task.count({ where: ofMessage })).toBe(1);
    // Recorded once the receiver's answer is in: a moment after the receiver saw the POST.
    const rows = await waitFor(async () => {
      const listed = await deliveriesOf(endpoint.id, team.member);
      return listed.length === 2 ? listed : undefined;
    }, 'the redelivery recorded');
    expect(rows.map((row: any) => [row.attempt, row.statusCode])).toEqual([
      [2, 500],
      [1, 500],
    ]);
  });

  it('retries a receiver that refuses connections on its schedule, and delivers once it is back', async () => {
    const team = await teamWithMember(h, 'hooks-refused');
    // A port nothing listens on for now: each attempt's connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/hooks`;
    const endpoint = await createEndpoint(h, team.owner, team.teamId, url, ['task.completed']);
    const { maxAttempts, retryDelaysMs } = h.webhooks;
    h.webhooks.maxAttempts = 12;
    h.webhooks.retryDelaysMs = [200];
    h.onCleanup(() => void Object.assign(h.webhooks, { maxAttempts, retryDelaysMs }));
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: team.ownerUserId, teamId: team.teamRowId },
    );
    // More refusals than a worker may lose leases (FAST_TASK_ENGINE): each is the attempt's own
    // failure, not the database's absence.
    const refusals = 5;
    await waitFor(
      async () => (await deliveriesOf(endpoint.id, team.member)).length >= refusals,
      'the refused attempts',
    );
    const hook = await webhookReceiver(h, () => 200, port);
    await waitFor(async () => hook.received.length === 1, 'the message, once the receiver is back');
    expect(verifies(endpoint.secret, hook.received[0]!)).toBe(true);
    const message = await db().webhookMessage.findFirstOrThrow({
      where: { endpointId: rowId(endpoint.id) },
    });
    const task = await waitFor(
      () =>
        db().task.findFirst({
          where: {
            type: 'webhook_delivery',
            status: 'COMPLETED',
            payload: { path: ['messageId'], equals: message.id },
          },
        }),
      'the delivery task to complete',
    );
    expect(task.attempts).toBeGreaterThan(refusals);
    expect(task.leaseLosses).toBe(0);
    const outcomes = (task.attemptLog as Array<{ outcome: string }>).map((each) => each.outcome);
    expect(new Set(outcomes)).toEqual(new Set(['FAILED']));
    const rows = await deliveriesOf(endpoint.id, team.member);
    expect(rows[0]).toMatchObject({ attempt: task.attempts, status: 'SUCCEEDED', statusCode: 200 });
    expect(
      rows.slice(1).every((row: any) => row.status === 'FAILED' && row.statusCode === null),
    ).toBe(true);
  });

  it('ends a delivery whose endpoint is deleted while its POST is out, without a retry', async () => {
    const team = await teamWithMember(h, 'hooks-deleted');
    // A receiver that answers 500 (a retryable failure) once the test has deleted the endpoint.
    const waiting: Array<() => void> = [];
    const held = createServer((request, response) => {
      request.resume();
      waiting.push(() => response.writeHead(500).end());
    });
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    h.onCleanup(() => {
      held.closeAllConnections();
      return new Promise<void>((resolve) => held.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(held.address() as AddressInfo).port}/hooks`;
    const endpoint = await createEndpoint(h, team.owner, team.teamId, url, ['task.completed']);
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: team.ownerUserId, teamId: team.teamRowId },
    );
    await waitFor(async () => waiting.length > 0, 'the POST to arrive');
    const message = await db().webhookMessage.findFirstOrThrow({
      where: { endpointId: rowId(endpoint.id) },
    });
    const deleted = await h.gql(
      'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }',
      { id: endpoint.id },
      team.owner,
    );
    expect(deleted.errors).toBeUndefined();
    waiting.shift()!();
    const ofMessage = {
      type: 'webhook_delivery',
      payload: { path: ['messageId'], equals: message.id },
    };
    const task = await waitFor(
      () => db().task.findFirst({ where: { ...ofMessage, status: { in: ['FAILED', 'DEAD'] } } }),
      'the delivery to end',
    );
    // Its one attempt: the message went with the endpoint, so nothing is left to retry.
    expect(task).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: 'the message or its endpoint is gone or disabled',
    });
    expect(await db().webhookDelivery.count({ where: { messageId: message.id } })).toBe(0);
    expect(waiting).toHaveLength(0);
  });

  it('closes the POST of a delivery cancelled while it waits for the receiver', async () => {
    const team = await teamWithMember(h, 'hooks-cancel');
    // A receiver that never answers: the POST waits on it until the timeout (2 s here).
    const requests: IncomingMessage[] = [];
    const silent = createServer((request) => void requests.push(request));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    h.onCleanup(() => {
      silent.closeAllConnections();
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hooks`;
    const endpoint = await createEndpoint(h, team.owner, team.teamId, url, ['task.completed']);
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const owner = { ownerId: team.ownerUserId, teamId: team.teamRowId };
    await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, owner);
    await waitFor(async () => requests.length > 0, 'the POST to arrive');
    const message = await db().webhookMessage.findFirstOrThrow({
      where: { endpointId: rowId(endpoint.id) },
    });
    const delivery = await db().task.findFirstOrThrow({
      where: { type: 'webhook_delivery', payload: { path: ['messageId'], equals: message.id } },
    });
    const closed = new Promise<void>((resolve) => requests[0]!.socket.once('close', resolve));
    let closedYet = false;
    void closed.then(() => (closedYet = true));

    const cancelled = await h.gql(
      'mutation($id: ID!) { cancelTask(id: $id) { cancellationRequested } }',
      { id: toGlobalId('Task', delivery.id) },
      h.adminKey,
    );
    expect(cancelled.errors, JSON.stringify(cancelled.errors)).toBeUndefined();
    const ended = await waitFor(async () => {
      const row = await db().task.findUniqueOrThrow({ where: { id: delivery.id } });
      return row.status === 'RUNNING' || row.status === 'PENDING' ? undefined : row;
    }, 'the delivery to end');
    // Ended by its own run, its connection closed and its attempt recorded: not abandoned to
    // its timeout, to record an attempt after the task's end.
    expect(ended.status).toBe('CANCELLED');
    expect(closedYet).toBe(true);
    const attempts = await db().webhookDelivery.findMany({ where: { messageId: message.id } });
    expect(attempts.map((attempt) => [attempt.succeeded, attempt.error])).toEqual([
      [false, expect.stringMatching(/^stopped while the POST was under way/)],
    ]);
  });
});
