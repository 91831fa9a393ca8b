// A worker's local queue (src/workers/turns.ts): long tasks are claimed little ahead of the
// slots, so a worker busy with them leaves the rest of the queue to the other workers.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, useTasks } from './fixture.js';

const { h } = useTasks();

const held = (workerId: string) =>
  db().task.count({ where: { status: 'RUNNING', lockedBy: workerId } });

describe('the local queue', () => {
  it('holds long tasks little ahead of its slots, leaving the rest to another worker', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 400 }, { ownerId })).id);
    // Two slots and a batch of 8: a batch at a time would hold 10 of the 12 here.
    const first = await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 8 });
    await waitFor(async () => ((await held(first.id)) >= 2 ? true : undefined), 'first claim');
    await sleep(150);
    expect(await held(first.id)).toBeLessThanOrEqual(4);

    const second = await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 8 });
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, await held(second.id));
      return most >= 4 ? true : undefined;
    }, 'the second worker holding 4 tasks');
    await waitFor(async () => {
      const done = await db().task.count({ where: { id: { in: ids }, status: 'COMPLETED' } });
      return done === ids.length ? true : undefined;
    }, 'every task COMPLETED');
  });
});
