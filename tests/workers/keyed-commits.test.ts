// Ends of a type that commits with rows of its own (finishInTransaction) go in turns by commit
// key (TaskDefinition.commitKey; a workflow step's is its workflow): one worker writes one key's
// ends one turn at a time, and turns of different keys side by side (src/workers/turns.ts). A
// worker that wrote every such turn after the last kept its slots idle through each commit.
import { describe, expect, it } from 'vitest';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, keyedCommits, testKeyedCommit } from '../utils/test-tasks.js';

const { h } = useTasks();

const overlap = (a: { from: number; to: number }, b: { from: number; to: number }) =>
  a.from < b.to && b.from < a.to;

describe('commits of hooked ends', () => {
  it('run side by side for different keys and one at a time for one key', async () => {
    keyedCommits.length = 0;
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // Queued before the worker starts, so that its first claim takes them all: a's and b's first
    // ends at once, their next ones while the first turns still hold their commits (b's longer).
    const holdMs = { a: 400, b: 800 };
    const ids: string[] = [];
    const runs = [
      ['a', 0],
      ['b', 0],
      ['a', 200],
      ['b', 200],
      ['b', 500],
    ] as const;
    for (const [key, runMs] of runs) {
      const payload = { key, runMs, holdMs: holdMs[key] };
      ids.push((await enqueueTestTask(app.pubsub, testKeyedCommit, payload, { ownerId })).id);
    }
    await h.startWorker(app.pubsub, { concurrency: 8, batchSize: 16 });

    const rows = await endedTasks(ids);
    for (const id of ids) expect(rows.get(id)!.status).toBe('COMPLETED');
    await expectLogsGapFree(rows);

    const commits = [...keyedCommits];
    // Every end committed once, whatever turns carried them.
    expect(commits.flatMap((commit) => commit.ids).sort()).toEqual([...ids].sort());
    const pairs = commits.flatMap((a, i) => commits.slice(i + 1).map((b) => [a, b] as const));
    const sharing = pairs.filter(([a, b]) => a.keys.some((key) => b.keys.includes(key)));
    // One key: never two commits at once.
    for (const [a, b] of sharing) expect(overlap(a, b)).toBe(false);
    // Two keys: side by side at least once (one turn at a time would never overlap).
    expect(pairs.some(([a, b]) => overlap(a, b))).toBe(true);
    await h.stopWorkers();
  });

  it("hold a key's next end back while a turn has room beside the one committing it", async () => {
    // One key only: while a1's commit holds, one turn of the two is free, so only the key keeps
    // a2's end out of a turn of its own until a1's commit is done. Both starts are written
    // (10 ms in) before a1 ends: a turn carrying a2's start would hold its end back anyway.
    keyedCommits.length = 0;
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const ids: string[] = [];
    for (const runMs of [100, 300]) {
      const payload = { key: 'a', runMs, holdMs: 600 };
      ids.push((await enqueueTestTask(app.pubsub, testKeyedCommit, payload, { ownerId })).id);
    }
    await h.startWorker(app.pubsub, { concurrency: 8, batchSize: 16 });

    const rows = await endedTasks(ids);
    for (const id of ids) expect(rows.get(id)!.status).toBe('COMPLETED');
    await expectLogsGapFree(rows);
    const commits = [...keyedCommits].sort((x, y) => x.from - y.from);
    expect(commits.flatMap((commit) => commit.ids).sort()).toEqual([...ids].sort());
    // Two commits (a2 ended while a1's held), one after the other.
    expect(commits).toHaveLength(2);
    expect(overlap(commits[0]!, commits[1]!)).toBe(false);
    await h.stopWorkers();
  });
});
