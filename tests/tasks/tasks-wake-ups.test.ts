// Wake-ups (src/workers/turns.ts): a task added while the worker's claim is under way may be
// past that claim's snapshot; its wake-up makes the worker claim again rather than wait for
// the poll, here an hour away.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, useTasks } from './fixture.js';

const { h } = useTasks();

describe('wake-ups', () => {
  it('start tasks added during a claim without waiting for the poll', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // The poll runs once at the start, then not for an hour: only wake-ups claim.
    await h.startWorker(app.pubsub, { pollMs: 3_600_000 });
    const completed = (ids: string[]) =>
      db().task.count({ where: { id: { in: ids }, status: 'COMPLETED' } });
    // Rounds of tasks added at once, then one a moment later: their wake-ups arrive while
    // the claim of the first is under way.
    for (let round = 0; round < 60; round++) {
      const adds = Array.from({ length: 3 }, () =>
        enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId }),
      );
      const late = sleep(round % 3).then(() =>
        enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId }),
      );
      const ids = (await Promise.all([...adds, late])).map((task) => task.id);
      await waitFor(
        async () => (await completed(ids)) === ids.length,
        `round ${round}: its tasks COMPLETED`,
        5_000,
        async () => `${await completed(ids)} of ${ids.length} COMPLETED`,
      );
      expect(await completed(ids)).toBe(4);
    }
  });
});
