// A worker killed with SIGKILL mid-task loses nothing: its lease expires, another worker
// takes the task over, and the side effect (the coverage history entry) stays single.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness } from '../utils/harness.js';
import { spawnWorkerProcess } from '../utils/processes.js';
import {
  enqueueTestTask,
  FAST_TASK_ENGINE,
  testCoverageThenHang,
  testKillsItsWorker,
  testSleep,
} from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { claimTasks } from '../../src/queue/claim.js';
import { selectQueuePosition } from '../../src/queue/queue-position.js';
import { requestCancellation } from '../../src/queue/cancel.js';
import { reclaimExpiredLeases } from '../../src/queue/reclaim-expired.js';
import { handBackTasks } from '../../src/queue/hand-back-tasks.js';
import { rowId } from '../utils/ids.js';
import { addUnrunTask, expectLogsGapFree } from '../tasks/fixture.js';

const h = useHarness();

// A test's workers would take the next test's tasks.
afterEach(() => h.stopWorkers());

describe('crash recovery', () => {
  it('lets another worker finish a task whose worker was SIGKILLed, writing one history entry', async () => {
    const corpus = await createCorpus(h);
    const agent = (
      await h.gql(CreateAgentMutation, {
        input: {
          name: 'Crash',
          taxonomyVersion: corpus.version,
          taxonomyNodeIds: [corpus.nodeIds.ai],
        },
      })
    ).data!.createAgentFromTaxonomy;
    const app = await h.startApp();
    const owner = (await db().user.findUniqueOrThrow({ where: { name: 'admin' } })).id;

    const doomed = spawnWorkerProcess(h);
    await doomed.ready;
    const task = await enqueueTestTask(
      app.pubsub,
      testCoverageThenHang,
      { agentId: rowId(agent.id) },
      { ownerId: owner, agentId: rowId(agent.id) },
    );
    await waitFor(
      async () =>
        (await db().task.findUnique({ where: { id: task.id } }))?.currentStep === 'hanging',
      'the first attempt to hang',
    );
    expect(await db().coverageHistory.count({ where: { taskId: task.id } })).toBe(1);
    await doomed.kill('SIGKILL');

    await h.startWorker(app.pubsub);
    const done = await waitFor(
      async () => {
        const row = await db().task.findUnique({ where: { id: task.id } });
        return row?.status === 'COMPLETED' ? row : undefined;
      },
      'the takeover to complete',
      20_000,
    );
    expect(done.attempts).toBe(2);
    expect(done.result).toEqual({ attempt: 2 });
    expect(await db().coverageHistory.count({ where: { agentId: rowId(agent.id) } })).toBe(1);
    const messages = (
      await db().taskEvent.findMany({ where: { taskId: task.id }, orderBy: { sequence: 'asc' } })
    ).map((e) => e.message);
    expect(messages).toContain('lease expired: the worker stopped; requeued');
  });

  it('hands back a running task on a graceful stop, without counting the attempt', async () => {
    const app = await h.startApp();
    const owner = (
      await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })
    ).id;
    const worker = await h.startWorker(app.pubsub);
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 60_000 }, { ownerId: owner });
    await waitFor(
      async () => (await db().task.findUnique({ where: { id: task.id } }))?.status === 'RUNNING',
      'the task to start',
    );
    await worker.stop(0);
    const row = await db().task.findUniqueOrThrow({ where: { id: task.id } });
    expect(row).toMatchObject({ status: 'PENDING', attempts: 0, lockedBy: null });
    // Listed as stopped (Query.workers) until the clean-up prunes it.
    const stopped = await db().worker.findUniqueOrThrow({ where: { id: worker.id } });
    expect(stopped).toMatchObject({ busySlots: 0, stoppedAt: expect.any(Date) });
  });

  it('leaves no task running in its name when it stops in the middle of busy turns', async () => {
    const app = await h.startApp();
    const owner = (
      await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })
    ).id;
    for (let i = 0; i < 300; i++)
      await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    const worker = await h.startWorker(app.pubsub, { concurrency: 8 });
    await waitFor(
      async () => (await db().task.count({ where: { status: 'COMPLETED' } })) >= 40,
      'the worker to be busy',
    );
    await worker.stop(1_000);
    // Every claim the worker made before it stopped ended (finished or handed back).
    const left = await db().task.findMany({
      where: { OR: [{ lockedBy: worker.id }, { status: 'RUNNING' }] },
    });
    const events = await db().taskEvent.findMany({
      where: { taskId: { in: left.map((t) => t.id) } },
    });
    expect(left, JSON.stringify({ left, events }, null, 1)).toEqual([]);
  });

  it('counts a lease lost before the start was recorded from the next run on, so such a poison task ends DEAD', async () => {
    const owner = (
      await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })
    ).id;
    const type = 'test_kills_its_worker_at_once';
    const task = await addUnrunTask(type, owner);
    const maxLeaseLosses = 2;
    // Each time, claimed into a busy worker's local queue (no free slot: startNow 0), started
    // there, and the worker died before the start's delayed record: its lease runs out.
    const dieBeforeTheStartIsRecorded = async (workerId: string) => {
      const [claimed] = await claimTasks(db(), workerId, {
        types: [type],
        leaseMs: 10_000,
        limit: 1,
        startNow: 0,
      });
      expect(claimed.id).toBe(task.id);
      await db()
        .$executeRaw`UPDATE tasks SET "lockedUntil" = now() - interval '1 second' WHERE id = ${task.id}::uuid`;
      expect((await reclaimExpiredLeases(db(), maxLeaseLosses)).map((row) => row.id)).toEqual([
        task.id,
      ]);
      return db().task.findUniqueOrThrow({ where: { id: task.id } });
    };

    // The first death cannot be told from a wait in the queue: it does not count.
    expect(await dieBeforeTheStartIsRecorded('doomed-1')).toMatchObject({
      status: 'PENDING',
      attempts: 0,
      leaseLosses: 0,
      unstartedLeaseLosses: 1,
    });
    // From then on its claim records its start, and each death counts.
    expect(await dieBeforeTheStartIsRecorded('doomed-2')).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      leaseLosses: 1,
    });
    const dead = await dieBeforeTheStartIsRecorded('doomed-3');
    expect(dead).toMatchObject({
      status: 'DEAD',
      leaseLosses: 2,
      error: 'its worker stopped while running it 2 times',
    });
    const events = await db().taskEvent.findMany({
      where: { taskId: task.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((event) => event.status)).toEqual(['PENDING', 'PENDING', 'DEAD']);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3]);
  });

  it('ends DEAD a task that kills its worker process before its start is recorded, each time it waits first', async () => {
    const app = await h.startApp();
    const owner = (
      await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })
    ).id;
    const poison = await enqueueTestTask(app.pubsub, testKillsItsWorker, {}, { ownerId: owner });
    const { maxLeaseLosses, concurrency } = FAST_TASK_ENGINE;
    const runs = [];
    for (let run = 1; run <= 1 + maxLeaseLosses; run++) {
      // Every slot busy first (HIGH goes before it in the claim order): it waits in the new
      // worker's local queue, starts when a slot frees, and takes the process down at once.
      for (let i = 0; i < concurrency; i++)
        await enqueueTestTask(
          app.pubsub,
          testSleep,
          { ms: 300 },
          { ownerId: owner, priority: 'HIGH' },
        );
      const worker = spawnWorkerProcess(h);
      await worker.ready;
      await new Promise((resolve) => worker.process.once('exit', resolve));
      // Its leases run out at once rather than in FAST_TASK_ENGINE.leaseMs: taken back now.
      await db().$executeRaw`UPDATE tasks SET "lockedUntil" = now() - interval '1 second'
        WHERE status = 'RUNNING' AND "lockedUntil" IS NOT NULL`;
      await reclaimExpiredLeases(db(), maxLeaseLosses);
      const row = await db().task.findUniqueOrThrow({ where: { id: poison.id } });
      runs.push([row.status, row.leaseLosses]);
      if (row.status === 'DEAD') break;
    }
    // Its first run cannot be told from a wait in the queue; each later one counts.
    expect(runs).toEqual([
      ['PENDING', 0],
      ['PENDING', 1],
      ['PENDING', 2],
      ['DEAD', 3],
    ]);
    await db().task.deleteMany({ where: { status: 'PENDING', type: testSleep.name } });
  });

  it('gives a task taken back from a dead worker, or handed back at shutdown, its old place in the queue', async () => {
    const owner = (await db().user.findUniqueOrThrow({ where: { name: 'admin' } })).id;
    const type = 'test_keeps_place';
    const add = () => addUnrunTask(type, owner);
    const first = await add();
    const second = await add();
    const claim = (limit: number) => ({ types: [type], leaseMs: 10_000, limit, startNow: limit });
    expect((await claimTasks(db(), 'doomed', claim(2))).map((task) => task.id)).toEqual([
      first.id,
      second.id,
    ]);
    const later = [await add(), await add(), await add()];
    // The doomed worker dies: its leases run out and are taken back.
    await db()
      .$executeRaw`UPDATE tasks SET "lockedUntil" = now() - interval '1 second' WHERE id = ${first.id}::uuid`;
    expect((await reclaimExpiredLeases(db(), 3)).map((task) => task.id)).toEqual([first.id]);
    const handedBack = await handBackTasks(db(), 'doomed', [
      { taskId: second.id, attempt: 1, recorded: false },
    ]);
    expect(handedBack.map((task) => task.id)).toEqual([second.id]);
    // Other tests' tasks share the queue: the places relative to each other.
    const places = await Promise.all(
      [first, second, ...later].map((task) => selectQueuePosition(db(), task.id)),
    );
    expect(places).toEqual([...places].sort((a, b) => a! - b!));
    const order = (await claimTasks(db(), 'survivor', claim(5))).map((task) => task.id);
    expect(order).toEqual([first.id, second.id, ...later.map((task) => task.id)]);
  });

  it('ends CANCELLED, not requeued, a task whose cancellation was asked for after its worker died', async () => {
    const owner = (await db().user.findUniqueOrThrow({ where: { name: 'admin' } })).id;
    const type = 'test_cancelled_orphan';
    const started = await addUnrunTask(type, owner);
    const waiting = await addUnrunTask(type, owner);
    // The doomed worker starts one and keeps the other in its local queue, then dies.
    const claim = { types: [type], leaseMs: 10_000, limit: 2, startNow: 1 };
    expect((await claimTasks(db(), 'doomed', claim)).map((task) => task.id)).toEqual([
      started.id,
      waiting.id,
    ]);
    for (const task of [started, waiting])
      expect((await requestCancellation(db(), task.id))?.changed).toBe(true);
    await db().$executeRaw`UPDATE tasks SET "lockedUntil" = now() - interval '1 second'
                           WHERE id IN (${started.id}::uuid, ${waiting.id}::uuid)`;
    const reclaimed = await reclaimExpiredLeases(db(), 3);
    expect(reclaimed.filter((task) => task.id === started.id || task.id === waiting.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: started.id, status: 'CANCELLED' }),
        expect.objectContaining({ id: waiting.id, status: 'CANCELLED' }),
      ]),
    );
    // Nothing left for another worker to start, and each log ends with the cancellation.
    expect(await claimTasks(db(), 'survivor', { ...claim, startNow: 2 })).toEqual([]);
    for (const task of [started, waiting]) {
      const row = await db().task.findUniqueOrThrow({ where: { id: task.id } });
      expect(row).toMatchObject({ status: 'CANCELLED', currentStep: 'cancelled' });
      expect(row.completedAt).not.toBeNull();
      await expectLogsGapFree(new Map([[task.id, row]]));
      const last = await db().taskEvent.findFirstOrThrow({
        where: { taskId: task.id },
        orderBy: { sequence: 'desc' },
      });
      expect(last).toMatchObject({
        sequence: row.lastSequence,
        status: 'CANCELLED',
        message: 'lease expired: the worker stopped; cancelled as asked',
      });
    }
    // The one that ran lost its lease (a history entry, its budget); the other only waited.
    const ran = await db().task.findUniqueOrThrow({ where: { id: started.id } });
    expect(ran).toMatchObject({ leaseLosses: 1, attempts: 1 });
    expect((await db().task.findUniqueOrThrow({ where: { id: waiting.id } })).attempts).toBe(0);
  });
});
