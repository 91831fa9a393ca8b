// GET /api/metrics/summary as the operator reads it (docs/operations.md#metrics-summary): its
// counts are the tasks this file runs, across a worker process (killed mid-task, its lease
// lost) and a worker in this process; a claim that SKIP LOCKED left short while a due task
// waited is a claim conflict, on the summary and on /metrics; other keys get 403, none 401.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { insertTask } from '../../src/queue/insert-task.js';
import type { MetricsSummary } from '../../src/services/workers/summary.js';
import { createWorkerMetrics } from '../../src/workers/metrics.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { spawnWorkerProcess } from '../utils/processes.js';
import { parseMetrics, valueOf } from '../utils/prometheus.js';
import { mint } from '../utils/teams.js';
import { enqueueTestTask, testFail, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

const adminId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

async function summary(app: TestApp, key: string | null = h.adminKey) {
  return fetch(`${app.baseUrl}/api/metrics/summary`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
}

async function summaryJson(app: TestApp): Promise<MetricsSummary> {
  const response = await summary(app);
  expect(response.status).toBe(200);
  return (await response.json()) as MetricsSummary;
}

const taskStatus = async (id: string) => (await db().task.findUnique({ where: { id } }))?.status;

describe('metrics summary', () => {
  it('counts the claims, lost leases, retries, dead letters and latency of the tasks run', async () => {
    const app = await h.startApp();
    const owner = await adminId();
    // Waiting in the queue all along: a type no worker runs.
    await insertTask(db(), {
      type: 'test_nobody_runs',
      priority: 'HIGH',
      payload: {},
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId: owner,
    });

    // A worker process claims a long task and is killed under it (lease 2 s).
    const doomed = spawnWorkerProcess(h);
    const doomedId = (await doomed.ready).slice('ready '.length);
    const orphan = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 600_000 },
      { ownerId: owner },
    );
    // Its heartbeat with the busy slot also carried the claim.
    await waitFor(
      async () => (await db().worker.findUnique({ where: { id: doomedId } }))?.busySlots === 1,
      'the worker process to run the task',
    );
    await doomed.kill('SIGKILL');

    // A worker here takes the task back once its lease expires, and runs three more.
    const worker = await h.startWorker(app.pubsub, {
      metrics: createWorkerMetrics(app.app.metricsRegistry),
    });
    const completes = await enqueueTestTask(app.pubsub, testSleep, { ms: 10 }, { ownerId: owner });
    const retried = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 1 },
      { ownerId: owner, maxAttempts: 3 },
    );
    const dead = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 5 },
      { ownerId: owner, maxAttempts: 2 },
    );
    await waitFor(
      async () =>
        (await taskStatus(completes.id)) === 'COMPLETED' &&
        (await taskStatus(retried.id)) === 'COMPLETED' &&
        (await taskStatus(dead.id)) === 'DEAD',
      'the three tasks to end',
    );
    await waitFor(async () => {
      const row = await db().task.findUnique({ where: { id: orphan.id } });
      return row?.lockedBy === worker.id && row.startedAt !== null;
    }, 'the orphaned task to run again here');

    // Claims: the orphan twice (each worker), the completed task once, the others twice each.
    const counted = await waitFor(async () => {
      const body = await summaryJson(app);
      return body.claims === 7 ? body : undefined;
    }, 'the heartbeats to carry every claim');
    const alive = await db().worker.count({
      where: { stoppedAt: null, lastHeartbeatAt: { gt: new Date(Date.now() - 15_000) } },
    });
    expect(counted).toMatchObject({
      windowSeconds: 300,
      queue: { pending: 1, depthByPriority: { HIGH: 1, MEDIUM: 0, LOW: 0 } },
      leasesLost: 1,
      retries: 2,
      deadLettered: 1,
    });
    expect(counted.workersAlive).toBe(alive);
    expect(counted.workersAlive).toBeGreaterThanOrEqual(1);
    expect(counted.queue.oldestPendingAgeSeconds).toBeGreaterThan(0);
    expect(counted.claimConflicts).toBeGreaterThanOrEqual(0);
    // Started in the window: the three that ended and the orphan running again; ended: three.
    const { enqueueToStart, startToEnd } = counted.latency;
    expect(enqueueToStart.count).toBe(4);
    expect(startToEnd.count).toBe(3);
    for (const phase of [enqueueToStart, startToEnd]) {
      expect(phase.p50Seconds).toBeGreaterThanOrEqual(0);
      expect(phase.p95Seconds).toBeGreaterThanOrEqual(phase.p50Seconds!);
    }

    // This process's own counter: the worker here claimed six of them.
    const samples = parseMetrics(await (await fetch(`${app.baseUrl}/metrics`)).text());
    expect(valueOf(samples, 'task_claims_total')).toBe(6);
    await h.stopWorkers();
  });

  it('counts a claim that SKIP LOCKED left short while a due task waited', async () => {
    const app = await h.startApp();
    const owner = await adminId();
    const before = await summaryJson(app);
    const held = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    // Another claim holds the row, as a concurrent worker's claim does while it commits.
    const other = new pg.Client({ connectionString: h.databaseUrl });
    await other.connect();
    h.onCleanup(() => other.end());
    await other.query('BEGIN');
    await other.query('SELECT id FROM tasks WHERE id = $1 FOR UPDATE', [held.id]);
    await h.startWorker(app.pubsub, { metrics: createWorkerMetrics(app.app.metricsRegistry) });
    const scraped = await waitFor(async () => {
      const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
      return (valueOf(parseMetrics(text), 'task_claim_conflicts_total') ?? 0) >= 1 && text;
    }, 'a claim conflict');
    await waitFor(
      async () => (await summaryJson(app)).claimConflicts > before.claimConflicts,
      'the heartbeat to carry the conflict',
    );
    expect(await taskStatus(held.id)).toBe('PENDING');
    await other.query('COMMIT');
    await waitFor(async () => (await taskStatus(held.id)) === 'COMPLETED', 'the task to run');
    await h.stopWorkers();

    // The families as Prometheus reads them (promtool, when installed, as tests/ops does).
    const promtool = spawnSync('promtool', ['check', 'metrics'], {
      input: scraped,
      encoding: 'utf8',
    });
    if (promtool.error === undefined) {
      const problems = `${promtool.stdout}${promtool.stderr}`
        .split('\n')
        .filter((line) => /task_claim/.test(line));
      expect(problems).toEqual([]);
    }
  });

  it('answers 401 without a valid key and 403 to any key but the operator', async () => {
    const app = await h.startApp();
    const admin = await mint(h, 'summary-team-admin', ['READ', 'WRITE', 'ADMIN']);
    const anonymous = await summary(app, null);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const wrong = await summary(app, 'not-a-key');
    expect(wrong.status).toBe(401);
    const refused = await summary(app, admin.key);
    expect(refused.status).toBe(403);
    expect((await refused.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    const posted = await fetch(`${app.baseUrl}/api/metrics/summary`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    expect(posted.status).toBe(405);
  });
});
