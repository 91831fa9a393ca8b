// Followers of one task share each execution only with followers of the same key: two keys of
// one user are two groups (a key's team, budgets and signed links can be in a result), so an
// event is executed once per key, not once per user and not once per follower.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { mint } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { logOf, progressWithLog, useTaskProgress } from './fixture.js';

const { h, follow } = useTaskProgress();

describe('taskProgress followers of two keys of one user', () => {
  it('share an execution per key, not per user', async () => {
    const app = await h.startApp();
    const keys = [await mint(h, 'two-keys', ['READ']), await mint(h, 'two-keys', ['READ'])];
    const owner = await db().user.findUniqueOrThrow({ where: { name: 'two-keys' } });
    const row = await enqueueTestTask(app.pubsub, testSleep, { ms: 600 }, { ownerId: owner.id });
    const taskId = toGlobalId('Task', row.id);
    const followers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        follow(app, taskId, { key: keys[i % 2]!.key, query: progressWithLog }),
      ),
    );
    h.queryLog.length = 0;
    await h.startWorker(app.pubsub);
    await Promise.all(followers.map((f) => f.done));
    const log = await logOf(row.id);
    for (const { events } of followers) expect(events.map((e) => e.sequence)).toEqual(log);
    const liveEvents = log.length - 1;
    // Task.events of each execution: its read after the subscription's sequence.
    const executions = h.queryLog.filter((sql) =>
      /FROM "public"."task_events" WHERE \("public"."task_events"."taskId" = \$1 AND "public"."task_events"."sequence" > \$2\)/.test(
        sql,
      ),
    ).length;
    // One per key per live event (two groups of four), never one per user or per follower.
    expect(executions).toBeGreaterThanOrEqual(2 * liveEvents);
    expect(executions).toBeLessThan(4 * liveEvents);
  });
});
