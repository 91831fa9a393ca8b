// With the queue dry (tasks coming one at a time), a worker's end waits a moment for the next
// claim (a wake-up's, a poll's) and is written with it, in one statement (src/workers/turns.ts);
// one no claim comes for is written alone once its wait is over, and a stopping worker writes
// what waits.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { adminUserId, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const { h } = useTasks();

const row = (id: string) => db().task.findUniqueOrThrow({ where: { id } });

describe('ends that wait for a claim', () => {
  it("go with the next wake-up's claim, in its statement; a stopping worker writes the last", async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const enqueue = () => enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId });
    // Waiting before the worker starts: its first claim (its start's poll) takes it, and no
    // other claim comes by itself (no poll for a minute, no wake-up).
    const first = await enqueue();
    // A wait no test outlasts: only a wake-up's claim (or the stop) writes the end.
    await h.startWorker(app.pubsub, { endHoldMs: 60_000, pollMs: 60_000 });
    await waitFor(async () => (await row(first.id)).startedAt, 'the first task started');
    // Its handler returned at once; its end waits, the task still RUNNING with one event.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await row(first.id)).toMatchObject({ status: 'RUNNING', lastSequence: 1 });

    const second = await enqueue();
    const ended = await waitFor(async () => {
      const found = await row(first.id);
      return found.status === 'COMPLETED' && found;
    }, 'the first task completed');
    const claimed = await row(second.id);
    // Claimed by the statement that ended the first: one now() for both.
    expect(claimed).toMatchObject({ status: 'RUNNING', attempts: 1 });
    expect(claimed.updatedAt).toEqual(ended.updatedAt);
    expect(ended).toMatchObject({ result: { slept: 0 }, lastSequence: 2, lockedBy: null });

    await h.stopWorkers();
    const rows = new Map([
      [first.id, ended],
      [second.id, await row(second.id)],
    ]);
    expect(rows.get(second.id)).toMatchObject({ status: 'COMPLETED', lastSequence: 2 });
    await expectLogsGapFree(rows);
  });

  it('is written alone once its wait is over when no claim comes', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // Claimed by the worker's first claim (its start's poll); no other claim comes.
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId });
    await h.startWorker(app.pubsub, { endHoldMs: 200, pollMs: 60_000 });
    const ended = await waitFor(async () => {
      const found = await row(task.id);
      return found.status === 'COMPLETED' && found;
    }, 'the task completed');
    // It waited (the handler took no time), and its log is its end after its enqueueing.
    expect(ended.completedAt!.getTime() - ended.startedAt!.getTime()).toBeGreaterThanOrEqual(150);
    await expectLogsGapFree(new Map([[task.id, ended]]));
    expect(ended.lastSequence).toBe(2);
  });
});
