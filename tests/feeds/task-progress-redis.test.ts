// taskProgress fed across processes through Redis, and a Redis restarting mid-run: no task
// and no event lost, workers and subscribers falling back to the database.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { redisAvailable } from '../utils/harness.js';
import { redisServerAvailable, spawnWorkerProcess, startPrivateRedis } from '../utils/processes.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, logOf, useTaskProgress } from './fixture.js';

const { h, subscribeAll } = useTaskProgress();

describe.skipIf(!redisAvailable)('across processes through Redis', () => {
  it('delivers events from a worker process to subscribers of two API processes', async () => {
    const apiA = await h.startApp({ pubsub: 'redis' });
    const apiB = await h.startApp({ pubsub: 'redis' });
    const worker = spawnWorkerProcess(h, { redisUrl: h.redisUrl });
    await worker.ready;
    const row = await enqueueTestTask(
      apiA.pubsub,
      testSleep,
      { ms: 300 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    const onA = await subscribeAll(apiA, taskId, false);
    const onB = await subscribeAll(apiB, taskId, true);
    await Promise.all([onA.done, onB.done]);
    const log = await logOf(row.id);
    for (const { events } of [onA, onB]) {
      expect(events.at(-1).status).toBe('COMPLETED');
      // The first event is the state at subscription time; from there on, every event.
      expect(events.map((e) => e.sequence)).toEqual(log.slice(log.indexOf(events[0].sequence)));
    }
    await worker.kill();
  });
});

describe.skipIf(!redisServerAvailable)('Redis restarting mid-run', () => {
  it('loses no task and no event: workers and subscribers fall back to the database', async () => {
    const redis = await startPrivateRedis(h);
    const prefix = h.pubsubPrefix;
    const { createRedisPubSub } = await import('../../src/platform/pubsub.js');
    // The API and the worker of this test talk to the private Redis.
    const pubsub = createRedisPubSub(redis.url, prefix);
    const app = await h.startApp({ pubsub });
    await h.startWorker(pubsub);

    const owner = await adminUserId();
    const rows = await Promise.all(
      [1, 2, 3].map(() => enqueueTestTask(pubsub, testSleep, { ms: 1_500 }, { ownerId: owner })),
    );
    const subscriptions = await Promise.all(
      rows.map((row) => subscribeAll(app, toGlobalId('Task', row.id), false)),
    );
    await waitFor(
      async () =>
        (await db().task.count({
          where: { id: { in: rows.map((r) => r.id) }, status: 'RUNNING' },
        })) > 0,
      'a running task',
    );
    await redis.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 700));
    await startPrivateRedis(h, redis.port);
    await Promise.all(subscriptions.map((s) => s.done));
    for (const [index, row] of rows.entries()) {
      const log = await logOf(row.id);
      const seen = subscriptions[index]!.events.map((e) => e.sequence);
      expect(seen).toEqual(log.slice(log.indexOf(seen[0])));
      expect(subscriptions[index]!.events.at(-1).status).toBe('COMPLETED');
    }
  });
});
