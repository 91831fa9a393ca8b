// A worker frozen (SIGSTOP) past its leases, with tasks waiting in its local queue: another
// worker takes them back and runs them. Thawed, the frozen one renews its leases before it
// starts anything that waited (src/workers/worker.ts, dispatch), finds those gone, and starts
// none of them: each ran once. Before, the runs that ended at the thaw freed their slots, and the
// waiting tasks started in them before the heartbeat's answer came back (held back here).
// A lease runs from when its claim was sent, not from when its answer was read: an answer read
// only at the thaw (it came while the worker was frozen) starts nothing either.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { adminUserId, endedTasks, useTasks } from '../tasks/fixture.js';
import { spawnWorkerProcess, type Child } from '../utils/processes.js';
import { holdRow } from '../utils/row-lock.js';
import { enqueueTestTask, testRecordsRun } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const { h } = useTasks();
const children: Child[] = [];

// Each case owns the queue: the last one's workers and gate are gone.
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill('SIGKILL');
  await h.stopWorkers();
  await db().$executeRawUnsafe('DROP TRIGGER IF EXISTS test_claim_gate ON tasks');
});

/** The app, and `add`: a test_records_run task (each run recorded in test_task_runs). */
async function recordingRuns() {
  await db().$executeRawUnsafe(
    'CREATE TABLE IF NOT EXISTS test_task_runs ("taskId" uuid, attempt int, pid int)',
  );
  const app = await h.startApp();
  const ownerId = await adminUserId();
  const add = (ms: number) => enqueueTestTask(app.pubsub, testRecordsRun, { ms }, { ownerId });
  return { app, add };
}

/** Each claim (a PENDING row made RUNNING) waits on advisory lock `key` while another holds it. */
async function gateClaims(key: number) {
  await db().$executeRawUnsafe(`
    CREATE OR REPLACE FUNCTION test_claim_gate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_xact_lock_shared(${key}); RETURN NEW; END $$`);
  await db().$executeRawUnsafe(`
    CREATE TRIGGER test_claim_gate BEFORE UPDATE ON tasks FOR EACH ROW
    WHEN (OLD.status = 'PENDING' AND NEW.status = 'RUNNING') EXECUTE FUNCTION test_claim_gate()`);
  return holdRow(h, 'SELECT pg_advisory_xact_lock($1)', [key]);
}

describe('a worker frozen past its leases', () => {
  it('starts nothing from its local queue that another worker took back meanwhile', async () => {
    const { app, add } = await recordingRuns();
    // Its 4 slots busy for 1.5 s, 4 tasks waiting behind them: one claim of 8 takes them all.
    const long = [await add(1_500), await add(1_500), await add(1_500), await add(1_500)];
    const waiting = [await add(1), await add(1), await add(1), await add(1)];
    const frozen = spawnWorkerProcess(h);
    children.push(frozen);
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

  it('starts nothing from a claim whose answer it read only at the thaw', async () => {
    const { app, add } = await recordingRuns();
    // No more than its slots: what its claims take starts at once.
    const tasks = [await add(1), await add(1), await add(1), await add(1)];
    const ids = tasks.map((task) => task.id);
    // Its claim waits in PostgreSQL; frozen meanwhile, the worker reads its answer at the thaw.
    const gate = await gateClaims(4_242);
    const frozen = spawnWorkerProcess(h);
    children.push(frozen);
    const frozenId = (await frozen.ready).replace(/^ready /, '');
    await waitFor(
      async () => ((await gate.waiting()) > 0 ? true : undefined),
      'a claim at the gate',
    );
    frozen.process.kill('SIGSTOP');
    await gate.release();
    // What its claims took (those at the gate when it froze), committed while it is frozen.
    const claimedThere = await waitFor(async () => {
      const count = await db().task.count({
        where: { id: { in: ids }, lockedBy: frozenId, status: 'RUNNING' },
      });
      return count > 0 && (await gate.waiting()) === 0 ? count : undefined;
    }, 'a claim by the worker process through the gate');
    expect(claimedThere).toBeGreaterThan(0);

    // Taken back once the leases expire (2 s), and run here.
    await h.startWorker(app.pubsub);
    await endedTasks(ids);
    // Its heartbeat held: had it trusted the leases from the answer's arrival, it would have
    // started them at the thaw, and their runs would be recorded before it learnt they were lost.
    const row = await holdRow(h, 'SELECT 1 FROM workers WHERE id = $1 FOR UPDATE', [frozenId]);
    frozen.process.kill('SIGCONT');
    await sleep(1_000);
    await row.release();
    await sleep(500);

    const runs = await db().$queryRaw<Array<{ taskId: string; pid: number }>>`
      SELECT "taskId"::text, pid FROM test_task_runs WHERE "taskId" = ANY(${ids}::uuid[])`;
    expect(runs.filter((run) => run.pid !== process.pid)).toEqual([]);
    expect(runs.map((run) => run.taskId).sort()).toEqual([...ids].sort());
    const rows = await db().task.findMany({ where: { id: { in: ids } } });
    expect(rows.every((row) => row.status === 'COMPLETED')).toBe(true);
  });
});
