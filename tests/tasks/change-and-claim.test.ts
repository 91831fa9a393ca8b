// A worker's few changes and its claim in one statement (src/queue/change-and-claim.ts): the
// changes written as alone, the claim answered as alone, one commit for both. And a start
// recorded after an event written meanwhile: its time no earlier than that event's.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { writeChangesAndClaim } from '../../src/queue/change-and-claim.js';
import { requestCancellation } from '../../src/queue/cancel.js';
import { claimTasks } from '../../src/queue/claim.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import { NOT_CLAIMED_COLUMNS } from '../../src/queue/task-row.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { adminUserId, useTasks } from './fixture.js';

useTasks();

const pubsub = createInProcessPubSub('change-and-claim:');
const BACKOFF = { baseMs: 20, maxMs: 200, maxLeaseLosses: 3, maxPostponements: 3 };

async function claimAll(workerId: string, count: number) {
  const owner = await adminUserId();
  for (let i = 0; i < count; i++)
    await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
  return claimTasks(db(), workerId, {
    types: ['test_sleep'],
    leaseMs: 60_000,
    limit: count,
    startNow: count,
  });
}

describe("a worker's changes with its claim", () => {
  it('finishes a few attempts and claims in one statement, one commit: the ends the same now() as the claim', async () => {
    // What earlier tests left waiting would come first in the claim.
    await db().task.deleteMany({ where: { type: 'test_sleep', status: 'PENDING' } });
    const running = await claimAll('worker-a', 2);
    const owner = await adminUserId();
    const waiting = [];
    for (const priority of ['LOW', 'HIGH'] as const)
      waiting.push(
        (await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner, priority })).id,
      );
    await db().task.update({ where: { id: running[1]!.id }, data: { lockedBy: 'worker-b' } });
    const { changed, claimed } = await writeChangesAndClaim(
      db(),
      'worker-a',
      [
        {
          kind: 'COMPLETED',
          taskId: running[0]!.id,
          attempt: 1,
          result: { n: 1 },
          message: 'done',
        },
        // Not held by this worker: left alone, and the claim goes on.
        { kind: 'COMPLETED', taskId: running[1]!.id, attempt: 1, result: null, message: 'done' },
      ],
      BACKOFF,
      { types: ['test_sleep'], leaseMs: 60_000, limit: 2, startNow: 1 },
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      id: running[0]!.id,
      status: 'COMPLETED',
      kind: 'COMPLETED',
      lastSequence: 2,
      event: { taskId: running[0]!.id, sequence: 2, status: 'COMPLETED', message: 'done' },
    });
    // In claim order (HIGH first), as a claim alone returns them; the first starts now.
    expect(claimed.map((row) => row.id)).toEqual([waiting[1], waiting[0]]);
    expect(claimed[0]!.startedAt).not.toBeNull();
    expect(claimed[1]!.startedAt).toBeNull();
    for (const row of claimed)
      for (const name of NOT_CLAIMED_COLUMNS) expect(row).toHaveProperty(name, null);
    const rows = new Map(
      (
        await db().task.findMany({
          where: { id: { in: [...running.map((r) => r.id), ...waiting] } },
        })
      ).map((row) => [row.id, row]),
    );
    const ended = rows.get(running[0]!.id)!;
    expect(ended).toMatchObject({ status: 'COMPLETED', result: { n: 1 }, lockedBy: null });
    expect(rows.get(running[1]!.id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-b' });
    for (const id of waiting) {
      expect(rows.get(id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-a', attempts: 1 });
      // One statement: its now() is the end's and the claim's alike.
      expect(rows.get(id)!.updatedAt).toEqual(ended.updatedAt);
    }
    const events = await db().taskEvent.findMany({
      where: { taskId: running[0]!.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((e) => [e.sequence, e.status])).toEqual([
      [1, 'PENDING'],
      [2, 'COMPLETED'],
    ]);
  });
});

describe('a start recorded late', () => {
  it('dates a start recorded late no earlier than an event written meanwhile, as its sequence says', async () => {
    const [task] = await claimAll('worker-s', 1);
    // The claim set its startedAt; its start is recorded a moment later (a worker's turn), and a
    // cancellation asked for in that moment took the next sequence first.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await requestCancellation(db(), task!.id))?.changed).toBe(true);
    const [changed] = await writeTaskChanges(
      db(),
      'worker-s',
      [{ kind: 'START', taskId: task!.id, attempt: 1, startedMsAgo: null }],
      BACKOFF,
    );
    const row = await db().task.findUniqueOrThrow({ where: { id: task!.id } });
    const events = await db().taskEvent.findMany({
      where: { taskId: task!.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((e) => [e.sequence, e.message])).toEqual([
      [1, 'enqueued'],
      [2, 'cancellation requested'],
      [3, 'attempt 1 started by worker-s'],
    ]);
    const times = events.map((e) => e.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events[2]!.at).toEqual(events[1]!.at);
    // The task keeps when it began; the live feed's copy of the event is the stored one.
    expect(row.startedAt!.getTime()).toBeLessThan(events[1]!.at.getTime());
    expect(changed!.event).toMatchObject({ sequence: 3, at: events[2]!.at.toISOString() });
  });
});
