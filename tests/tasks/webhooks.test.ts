// Webhooks received by a real local HTTP server and verified with `standardwebhooks`.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../../src/platform/webhook-defaults.js';
import { db } from '../../src/platform/db.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
/** The webhook_delivery task of the message to a task's own webhookUrl, once in `statuses`. */
async function deliveryOf(taskId: string, statuses: string[]) {
  const message = await db().webhookMessage.findFirst({ where: { taskId: rowId(taskId) } });
  if (!message) return null;
  return db().task.findFirst({
    where: {
      type: 'webhook_delivery',
      payload: { path: ['messageId'], equals: message.id },
      status: { in: statuses as never },
    },
  });
}
afterEach(async () => {
  await h.stopWorkers();
  h.webhooks.allowPrivateTargets = true;
  h.webhooks.timeoutMs = 2_000;
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses[received.length - 1] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

async function agent() {
  const corpus = await createCorpus(h);
  return (
    await h.gql(CreateAgentMutation, {
      input: {
        name: 'Hooked',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ml],
      },
    })
  ).data!.createAgentFromTaxonomy;
}

const refresh =
  'mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) { task { id } } }';
const deliveries =
  'query($id: ID!) { task(id: $id) { status webhookDeliveries { attempt statusCode succeeded error } } }';

describe('webhooks', () => {
  it('delivers a signed outcome, retrying after a 503, and records every attempt', async () => {
    const hook = await receiver([503, 200]);
    const subject = await agent();
    const app = await h.startApp();
    const taskId = (await h.gql(refresh, { input: { agentId: subject.id, webhookUrl: hook.url } }))
      .data.refreshCoverage.task.id;
    await h.startWorker(app.pubsub);
    const task = await waitFor(async () => {
      const t = (await h.gql(deliveries, { id: taskId })).data.task;
      return t.webhookDeliveries.length === 2 ? t : undefined;
    }, 'two delivery attempts');
    expect(task.status).toBe('COMPLETED');
    expect(task.webhookDeliveries).toEqual([
      { attempt: 1, statusCode: 503, succeeded: false, error: 'HTTP 503' },
      { attempt: 2, statusCode: 200, succeeded: true, error: null },
    ]);
    expect(hook.received).toHaveLength(2);
    const [first, second] = hook.received;
    // Standard Webhooks: the same message id on a retry; a signature the library verifies.
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    const verified = new Webhook(DEVELOPMENT_WEBHOOK_SECRET).verify(
      second!.body,
      second!.headers as Record<string, string>,
    ) as Record<string, unknown>;
    expect(verified).toMatchObject({
      taskId,
      agentId: subject.id,
      topicId: null,
      status: 'COMPLETED',
      error: null,
      result: { overallCoverage: 100 },
    });
    expect(typeof verified.completedAt).toBe('string');
    expect(() =>
      new Webhook(`whsec_${Buffer.from('some other secret!!').toString('base64')}`).verify(
        second!.body,
        second!.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it('stops after 3 retries, and never holds up the task', async () => {
    const hook = await receiver([500, 500, 500, 500, 500]);
    const subject = await agent();
    const app = await h.startApp();
    const taskId = (await h.gql(refresh, { input: { agentId: subject.id, webhookUrl: hook.url } }))
      .data.refreshCoverage.task.id;
    await h.startWorker(app.pubsub);
    const delivery = await waitFor(
      () => deliveryOf(taskId, ['DEAD', 'COMPLETED']),
      'the delivery to give up',
    );
    expect(delivery.status).toBe('DEAD');
    expect(hook.received).toHaveLength(4);
    const task = (await h.gql(deliveries, { id: taskId })).data.task;
    expect(task.status).toBe('COMPLETED');
    expect(task.webhookDeliveries.map((d: any) => d.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('times out an answer that trickles past WEBHOOK_TIMEOUT_MS, and retries it', async () => {
    // The first answer: its headers at once, then a byte every 100 ms for 5 s (a socket
    // timeout, which counts from the last byte, never fires); the second: 200 at once.
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (++requests > 1) return res.end();
        res.writeHead(200, { 'content-type': 'text/plain' });
        const trickle = setInterval(() => res.write('.'), 100);
        setTimeout(() => (clearInterval(trickle), res.end()), 5_000);
        res.on('close', () => clearInterval(trickle));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const subject = await agent();
    const app = await h.startApp();
    const taskId = (await h.gql(refresh, { input: { agentId: subject.id, webhookUrl: url } })).data
      .refreshCoverage.task.id;
    h.webhooks.timeoutMs = 300;
    await h.startWorker(app.pubsub);
    const delivery = await waitFor(
      () => deliveryOf(taskId, ['COMPLETED', 'DEAD', 'FAILED', 'TIMEOUT']),
      'the delivery to end',
    );
    expect(delivery.status).toBe('COMPLETED');
    const task = (await h.gql(deliveries, { id: taskId })).data.task;
    expect(task.webhookDeliveries).toEqual([
      {
        attempt: 1,
        statusCode: null,
        succeeded: false,
        error: 'timed out after 300 ms (the whole answer, headers and body)',
      },
      { attempt: 2, statusCode: 200, succeeded: true, error: null },
    ]);
    expect(requests).toBe(2);
  });

  it('refuses private targets and plain http in production mode, at enqueue and at delivery', async () => {
    const hook = await receiver([200]);
    const subject = await agent();
    h.webhooks.allowPrivateTargets = false;
    for (const url of [
      hook.url,
      hook.url.replace('http:', 'https:'),
      'https://localhost/hook',
      'https://[::1]/x',
      'https://169.254.169.254/latest',
      'ftp://example.com/x',
    ]) {
      const response = await h.gql(refresh, { input: { agentId: subject.id, webhookUrl: url } });
      expect(errorCodes(response), url).toEqual(['BAD_USER_INPUT']);
    }
    expect(
      await db().task.count({ where: { agentId: rowId(subject.id), webhookUrl: { not: null } } }),
    ).toBe(0);

    // Accepted while allowed, refused when delivered under the production policy.
    h.webhooks.allowPrivateTargets = true;
    const app = await h.startApp();
    const taskId = (await h.gql(refresh, { input: { agentId: subject.id, webhookUrl: hook.url } }))
      .data.refreshCoverage.task.id;
    h.webhooks.allowPrivateTargets = false;
    await h.startWorker(app.pubsub);
    const delivery = await waitFor(
      () => deliveryOf(taskId, ['FAILED', 'DEAD', 'COMPLETED']),
      'the refusal',
    );
    expect(delivery.status).toBe('FAILED');
    const task = (await h.gql(deliveries, { id: taskId })).data.task;
    expect(task.webhookDeliveries).toEqual([
      {
        attempt: 1,
        statusCode: null,
        succeeded: false,
        error: expect.stringMatching(/^refused: /),
      },
    ]);
    expect(hook.received).toHaveLength(0);
  });
});
