// A worker frozen (SIGSTOP) past its leases, with tasks waiting in its local queue: another
// worker takes them back and runs them. Thawed, the frozen one renews its leases before it
// starts anything that waited (src/workers/worker.ts, dispatch), finds those gone, and starts
// none of them: each ran once. Before, the runs that ended at the thaw freed their slots, and the
// waiting tasks started in them before the heartbeat's answer came back (held back here).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { adminUserId, endedTasks, useTasks } from '../tasks/fixture.js';
import { spawnWorkerProcess } from '../utils/processes.js';
import { holdRow } from '../utils/row-lock.js';
import { enqueueTestTask, testRecordsRun } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const { h } = useTasks();

describe('a worker frozen past its leases', () => {
  it('starts nothing from its local queue that another worker took back meanwhile', async () => {
    await db().$executeRawUnsafe(
      'CREATE TABLE IF NOT EXISTS test_task_runs ("taskId" uuid, attempt int, pid int)',
    );
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const add = (ms: number) => enqueueTestTask(app.pubsub, testRecordsRun, { ms }, { ownerId });
    // Its 4 slots busy for 1.5 s, 4 tasks waiting behind them: one claim of 8 takes them all.
    const long = [await add(1_500), await add(1_500), await add(1_500), await add(1_500)];
    const waiting = [await add(1), await add(1), await add(1), await add(1)];
    const frozen = spawnWorkerProcess(h);
    const frozenId = (await frozen.ready).replace(/^ready /, '');
    const ids = [...long, ...waiting].map((task) => task.id);
    await waitFor(async () => {
      const rows = await db().task.findMany({ where: { id: { in: ids } } });
      return rows.every((row) => row.status === 'RUNNING') ? true : undefined;
    }, 'every task claimed by the worker process');
    frozen.process.kill('SIGSTOP');

    // The other worker takes them back once their leases (2 s) expire, and runs them.
    await h.startWorker(app.pubsub);
    await endedTasks(waiting.map((task) => task.id));
    // Thawed after its runs' ends came due: they end together, and free their slots at once.
    // Its heartbeat waits a second on its row (held here): what it would learn comes late.
    const row = await holdRow(h, 'SELECT 1 FROM workers WHERE id = $1 FOR UPDATE', [frozenId]);
    frozen.process.kill('SIGCONT');
    await sleep(1_000);
    await row.release();
    await endedTasks(ids);
    await sleep(500);

    const runs = await db().$queryRaw<Array<{ taskId: string; pid: number }>>`
      SELECT "taskId"::text, pid FROM test_task_runs WHERE "taskId" = ANY(${ids}::uuid[])`;
    for (const task of waiting) {
      const ofTask = runs.filter((run) => run.taskId === task.id);
      expect(ofTask.map((run) => run.pid)).toEqual([process.pid]);
    }
    const rows = await db().task.findMany({ where: { id: { in: ids } } });
    expect(rows.every((row) => row.status === 'COMPLETED')).toBe(true);
  });
});
