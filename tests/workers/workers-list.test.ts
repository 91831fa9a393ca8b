// The operator's workers query (docs/operations.md#workers): a worker in its own process shows
// its busy slot and the task it runs; once SIGKILLed its heartbeat ages and it is no longer
// alive; a graceful stop marks it stopped; the clean-up prunes both after their retention.
// Only the operator's key reads it.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { pruneWorkers, WORKER_RETENTION_MS } from '../../src/queue/prune-workers.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { useHarness } from '../utils/harness.js';
import { spawnWorkerProcess } from '../utils/processes.js';
import { mint } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const WORKERS = `{ workers { id host pid startedAt lastHeartbeatAt stoppedAt alive slots busySlots
  runningTasks { id type startedAt } } }`;

interface WorkerJson {
  id: string;
  host: string;
  pid: number;
  stoppedAt: string | null;
  alive: boolean;
  slots: number;
  busySlots: number;
  runningTasks: Array<{ id: string; type: string; startedAt: string }>;
}

async function workers(): Promise<WorkerJson[]> {
  const response = await h.gql(WORKERS);
  expect(response.errors).toBeUndefined();
  return response.data.workers;
}

const adminId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

describe('workers', () => {
  it('shows a worker process running a task, then not alive once SIGKILLed', async () => {
    const app = await h.startApp();
    const child = spawnWorkerProcess(h);
    const workerId = (await child.ready).slice('ready '.length);
    const task = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 600_000 },
      { ownerId: await adminId() },
    );
    const busy = await waitFor(async () => {
      const found = (await workers()).find((worker) => worker.id === workerId);
      return found?.busySlots === 1 && found.runningTasks.length === 1 ? found : undefined;
    }, 'the worker to report its busy slot');
    expect(busy).toMatchObject({
      pid: child.process.pid,
      alive: true,
      stoppedAt: null,
      slots: 4,
      runningTasks: [{ id: toGlobalId('Task', task.id), type: 'test_sleep' }],
    });
    expect(workerId.startsWith(`${busy.host}:${busy.pid}:`)).toBe(true);

    await child.kill('SIGKILL');
    // Killed, it writes nothing more: its last heartbeat ages past the 15 s alive window
    // (moved back here rather than waited for).
    await db()
      .$executeRaw`UPDATE workers SET "lastHeartbeatAt" = now() - interval '16 seconds' WHERE id = ${workerId}`;
    const dead = (await workers()).find((worker) => worker.id === workerId);
    // Still listed, with the task its lease holds until another worker takes it back.
    expect(dead).toMatchObject({ alive: false, stoppedAt: null, busySlots: 1 });
    expect(dead!.runningTasks.map((each) => each.id)).toEqual([toGlobalId('Task', task.id)]);
    const stats = await h.gql(`{ queueStats { workersAlive } }`);
    expect(stats.data.queueStats.workersAlive).toBe(0);
    await db().task.update({ where: { id: task.id }, data: { status: 'CANCELLED' } });
  });

  it('marks a worker stopped on a graceful stop, and prunes silent workers after an hour', async () => {
    const app = await h.startApp();
    const worker = await h.startWorker(app.pubsub);
    await worker.stop(0);
    const stopped = (await workers()).find((each) => each.id === worker.id);
    expect(stopped).toMatchObject({ alive: false, busySlots: 0, runningTasks: [] });
    expect(stopped!.stoppedAt).not.toBeNull();

    await db().$executeRaw`UPDATE workers SET "lastHeartbeatAt" = now() - ${
      WORKER_RETENTION_MS + 1_000
    } * interval '1 millisecond' WHERE id = ${worker.id}`;
    expect(await pruneWorkers(db(), WORKER_RETENTION_MS)).toBeGreaterThanOrEqual(1);
    expect((await workers()).map((each) => each.id)).not.toContain(worker.id);
  });

  it('answers FORBIDDEN to any key but the operator, UNAUTHENTICATED without one', async () => {
    await h.startApp();
    const admin = await mint(h, 'workers-team-admin', ['READ', 'WRITE', 'ADMIN']);
    const refused = await h.gql(WORKERS, {}, admin.key);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await h.gql(WORKERS, {}, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
