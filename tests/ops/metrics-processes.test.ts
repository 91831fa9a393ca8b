// The queue's counts across processes, as deployed: an API process enqueues, a ROLE=worker
// process (src/main.ts, its /metrics on WORKER_HTTP_PORT) claims, runs and queues the webhook
// deliveries. Each counts what it did itself, and the queue wait comes from PostgreSQL's
// clock, so it is the same whichever process enqueued.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { samplesOf, scrape, valueOf } from '../utils/prometheus.js';
import { waitFor } from '../utils/wait.js';
import { CANCEL, PLAN, RETRY, START, step, UPDATE } from '../workflows/fixture.js';

const h = useHarness();
const REFRESH = `mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) { task { id } } }`;
const TASKS = 3;

async function receiver(): Promise<string> {
  const server = createServer((req, res) => req.resume().on('end', () => res.end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('metrics across processes', () => {
  it('counts an enqueue in the API process and its wait and webhook in the worker process', async () => {
    const api = await h.startApp();
    const corpus = await createCorpus(h);
    const created = await h.gql(CreateAgentMutation, {
      input: {
        name: 'Apart',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ml],
      },
    });
    const agentId = created.data!.createAgentFromTaxonomy.id;
    const webhookUrl = await receiver();
    // Enqueued before any worker runs: they wait in the queue until the worker process starts.
    for (let i = 0; i < TASKS; i++) {
      const refreshed = await graphql<any>(
        api.fetch,
        REFRESH,
        { input: { agentId, webhookUrl } },
        { key: h.adminKey },
      );
      expect(refreshed.errors).toBeUndefined();
    }
    const worker = spawnServiceProcess(
      h,
      { ROLE: 'worker', WORKER_HTTP_PORT: '0', HOST: '127.0.0.1', TASK_POLL_MS: '100' },
      /"port":(\d+)[^\n]*worker probes listening/,
    );
    // Stopped here, pass or fail: left running, it would claim the next test's tasks.
    try {
      const port = /"port":(\d+)/.exec(await worker.ready)![1];
      const delivered = () =>
        db().task.count({ where: { type: 'webhook_delivery', status: 'COMPLETED' } });
      await waitFor(
        async () => (await delivered()) === TASKS || undefined,
        'every webhook delivered',
      );

      const apiSamples = await scrape(`${api.baseUrl}/metrics`);
      const workerSamples = await scrape(`http://127.0.0.1:${port}/metrics`);
      const refresh = { type: 'coverage_refresh', priority: 'medium' };
      const webhook = { type: 'webhook_delivery', priority: 'high' };
      // The API enqueued the refreshes and started nothing.
      expect(valueOf(apiSamples, 'tasks_enqueued_total', refresh)).toBe(TASKS);
      expect(samplesOf(apiSamples, 'tasks_enqueued_total', webhook)).toEqual([]);
      expect(samplesOf(apiSamples, 'task_queue_wait_seconds_count')).toEqual([]);
      // The worker started them, queued their webhooks and delivered them.
      expect(samplesOf(workerSamples, 'tasks_enqueued_total', refresh)).toEqual([]);
      expect(valueOf(workerSamples, 'tasks_enqueued_total', webhook)).toBe(TASKS);
      expect(valueOf(workerSamples, 'task_queue_wait_seconds_count', refresh)).toBe(TASKS);
      expect(valueOf(workerSamples, 'task_queue_wait_seconds_count', webhook)).toBe(TASKS);
      expect(valueOf(workerSamples, 'webhook_deliveries_total', { outcome: 'success' })).toBe(
        TASKS,
      );
      expect(
        valueOf(workerSamples, 'task_attempts_total', {
          type: 'coverage_refresh',
          outcome: 'completed',
        }),
      ).toBe(TASKS);
      // The wait is what the rows say: from runAt (the enqueue) to the start. The three were
      // claimed for free slots: each started on the claim's clock, so its wait is its row's to
      // the millisecond both are rounded to, however long the worker took to start the next.
      const rows = await db().task.findMany({ where: { type: 'coverage_refresh' } });
      const waited = rows.reduce(
        (sum, t) => sum + (t.startedAt!.getTime() - t.runAt.getTime()) / 1000,
        0,
      );
      expect(waited).toBeGreaterThan(0);
      const sum = valueOf(workerSamples, 'task_queue_wait_seconds_sum', refresh)!;
      // Each within 1.5 ms: the metric's wait runs from the later of runAt (microseconds) and
      // updatedAt (rounded to the millisecond: up to 0.5 ms later), the rows' from runAt cut to
      // its millisecond (up to 1 ms earlier). A bound of 1 ms each failed once (0.0030000000000001
      // against 0.003 for three).
      expect(Math.abs(sum - waited)).toBeLessThan(0.0015 * TASKS);
    } finally {
      await worker.kill('SIGTERM');
    }
    expect(worker.process.exitCode).toBe(0);
  }, 120_000); // a process started through tsx, on a loaded machine

  it('counts workflow step tasks where they were dispatched: start and retry in the API, the rest in the worker', async () => {
    const api = await h.startApp();
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const response = await graphql<any>(api.fetch, query, variables, { key: h.adminKey });
      expect(response.errors).toBeUndefined();
      return response.data;
    };
    const corpus = await createCorpus(h);
    const created = await gql(CreateAgentMutation as unknown as string, {
      input: {
        name: 'Steps',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ml],
      },
    });
    const agentId = created.createAgentFromTaxonomy.id;
    const { id } = (await gql(PLAN, { input: { goal: 'count the steps', agentIds: [agentId] } }))
      .planWorkflow;
    const steps = [step('a', 'NOOP'), step('b', 'NOOP', { dependsOn: ['a'] })];
    await gql(UPDATE, { id, v: 1, steps });
    // No worker yet: the API dispatches a's task on the start, cancels it, and dispatches a new
    // one on the retry; b's task is dispatched by a's commit in the worker.
    await gql(START, { id, v: 2 });
    await gql(CANCEL, { id });
    await gql(RETRY, { id, from: 'a' });
    const worker = spawnServiceProcess(
      h,
      { ROLE: 'worker', WORKER_HTTP_PORT: '0', HOST: '127.0.0.1', TASK_POLL_MS: '100' },
      /"port":(\d+)[^\n]*worker probes listening/,
    );
    const port = /"port":(\d+)/.exec(await worker.ready)![1];
    const WORKFLOW = 'query($id: ID!) { workflow(id: $id) { status } }';
    await waitFor(
      async () => (await gql(WORKFLOW, { id })).workflow.status === 'SUCCEEDED' || undefined,
      'the workflow succeeded',
    );

    const stepTasks = { type: 'workflow_step', priority: 'medium' };
    const apiCount = valueOf(
      await scrape(`${api.baseUrl}/metrics`),
      'tasks_enqueued_total',
      stepTasks,
    );
    const workerSamples = await scrape(`http://127.0.0.1:${port}/metrics`);
    const workerCount = valueOf(workerSamples, 'tasks_enqueued_total', stepTasks);
    expect(apiCount).toBe(2);
    expect(workerCount).toBe(1);
    // Every task dispatched: a row, or a step's task that ended before its row was written (it
    // is recorded on its step alone: docs/workflows.md).
    const [{ rowless }] = await db().$queryRaw<[{ rowless: number }]>`
      SELECT count(*)::int AS rowless FROM workflow_steps s
      WHERE s."taskId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s."taskId")`;
    expect(apiCount! + workerCount!).toBe(
      (await db().task.count({ where: { type: 'workflow_step' } })) + rowless,
    );
    await worker.kill('SIGTERM');
    expect(worker.process.exitCode).toBe(0);
  }, 120_000);
});
