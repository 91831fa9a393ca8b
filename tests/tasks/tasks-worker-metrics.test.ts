// The worker's metrics (attempts by type and outcome, durations, busy slots) and the probes
// of a ROLE=worker process, and its metrics added to the API's with ROLE=all.
import { defaultTaskEngineSizes } from '../../src/platform/config.js';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { enqueueTestTask, testFail, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, useTasks } from './fixture.js';

const { h } = useTasks();

describe('worker metrics and probes', () => {
  it('counts attempts by type and outcome, with their durations and the busy slots', async () => {
    const { Registry } = await import('prom-client');
    const { createWorkerMetrics } = await import('../../src/workers/metrics.js');
    const registry = new Registry();
    // Only this test's attempts: what earlier tests left waiting goes.
    await db().task.deleteMany({ where: { status: 'PENDING' } });
    const pubsub = createInProcessPubSub('worker-metrics:');
    h.onCleanup(() => pubsub.close());
    await h.startWorker(pubsub, { metrics: createWorkerMetrics(registry) });
    const owner = await adminUserId();
    await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    await enqueueTestTask(pubsub, testFail, { failAttempts: 1 }, { ownerId: owner });
    await enqueueTestTask(
      pubsub,
      testFail,
      { failAttempts: 0, nonRetryable: true },
      { ownerId: owner },
    );
    const attempts = async () => {
      const { values } = await registry.getSingleMetric('task_attempts_total')!.get();
      return Object.fromEntries(
        values.map(({ labels, value }) => [`${labels.type} ${labels.outcome}`, value]),
      );
    };
    const expected = {
      'test_sleep completed': 1,
      'test_fail retry': 1,
      'test_fail completed': 1,
      'test_fail failed': 1,
    };
    await waitFor(
      async () => Object.values(await attempts()).reduce((sum, n) => sum + n, 0) >= 4 || undefined,
      'four attempts counted',
    );
    expect(await attempts()).toEqual(expected);
    const text = await registry.metrics();
    expect(text).toMatch(/^task_attempt_duration_seconds_count\{type="test_fail"\} 3$/m);
    expect(text).toMatch(/^task_attempt_duration_seconds_count\{type="test_sleep"\} 1$/m);
    expect(text).toMatch(/^task_worker_slots 4$/m);
    expect(text).toMatch(/^task_worker_slots_busy 0$/m);

    // A stop with no grace hands a running task back.
    const long = await enqueueTestTask(pubsub, testSleep, { ms: 60_000 }, { ownerId: owner });
    await waitFor(
      async () => /^task_worker_slots_busy 1$/m.test(await registry.metrics()) || undefined,
      'the long task running',
    );
    await h.stopWorkers();
    expect((await attempts())['test_sleep handed_back']).toBe(1);
    expect(await db().task.findUnique({ where: { id: long.id } })).toMatchObject({
      status: 'PENDING',
    });
  });

  it('serves /health, /ready and /metrics from a ROLE=worker process on WORKER_HTTP_PORT', async () => {
    const { spawnServiceProcess } = await import('../utils/processes.js');
    const worker = spawnServiceProcess(
      h,
      { ROLE: 'worker', WORKER_HTTP_PORT: '0', HOST: '127.0.0.1' },
      /"port":(\d+)[^\n]*worker probes listening/,
    );
    const port = /"port":(\d+)/.exec(await worker.ready)![1];
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    expect((await get('/health')).status).toBe(200);
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', stopping: false, database: true });
    const metrics = await (await get('/metrics')).text();
    // Unset WORKER_CONCURRENCY: the slots are sized to the machine.
    expect(metrics).toMatch(
      new RegExp(`^task_worker_slots ${defaultTaskEngineSizes().concurrency}$`, 'm'),
    );
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
    expect((await get('/graphql')).status).toBe(404);
    await worker.kill('SIGTERM');
    expect(worker.process.exitCode).toBe(0);
  });

  it("adds the worker's metrics to the API's /metrics with ROLE=all", async () => {
    const { spawnServiceProcess } = await import('../utils/processes.js');
    const service = spawnServiceProcess(
      h,
      { ROLE: 'all', PORT: '0', HOST: '127.0.0.1', ADMIN_API_KEY: h.adminKey },
      /"port":(\d+)[^\n]*API listening/,
    );
    const port = /"port":(\d+)/.exec(await service.ready)![1];
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^task_worker_slots ${defaultTaskEngineSizes().concurrency}$`, 'm'),
    );
    expect(metrics).toMatch(/^graphql_sse_streams_open 0$/m);
    await service.kill('SIGTERM');
    expect(service.process.exitCode).toBe(0);
  });
});
