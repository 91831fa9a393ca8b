// The queue's statements on their own: retention, finishing and claiming in one statement,
// a batch finished beside the heartbeat, prepared statements that survive a rolling deploy,
// and the open tasks read through their partial indexes whatever the statistics say.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db, inTransaction, type Transaction } from '../../src/platform/db.js';
import { dueTasksRemain } from '../../src/queue/due-tasks-remain.js';
import { cancelTasksOfEndedSteps } from '../../src/services/workflows/sql/cancel-tasks-of-ended-steps.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { insertTask } from '../../src/queue/insert-task.js';
import { NOT_CLAIMED_COLUMNS } from '../../src/queue/task-row.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { adminUserId, useTasks } from './fixture.js';

const { h } = useTasks();

describe('retention', () => {
  it('deletes finished tasks older than the retention period with their events, and keeps the rest', async () => {
    const { deleteFinishedTasks } = await import('../../src/queue/delete-finished.js');
    const owner = await adminUserId();
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    const old = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'COMPLETED',
        ownerId: owner,
        teamId,
        completedAt: new Date(Date.now() - 25 * 3_600_000),
      },
    });
    await db().taskEvent.create({
      data: { taskId: old.id, sequence: 1, status: 'COMPLETED', progressPercent: 100 },
    });
    const recent = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'FAILED',
        ownerId: owner,
        teamId,
        completedAt: new Date(Date.now() - 3_600_000),
      },
    });
    await db().taskEvent.create({
      data: { taskId: recent.id, sequence: 1, status: 'FAILED', progressPercent: 0 },
    });
    const pending = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'PENDING',
        ownerId: owner,
        teamId,
        createdAt: new Date(Date.now() - 48 * 3_600_000),
        runAt: new Date(Date.now() + 3_600_000),
      },
    });
    const retention = {
      retentionMs: 24 * 3_600_000,
      failedRetentionMs: 7 * 24 * 3_600_000,
      deadRetentionMs: 30 * 24 * 3_600_000,
    };
    expect(await deleteFinishedTasks(db(), retention)).toBeGreaterThanOrEqual(1);
    expect(await db().task.count({ where: { id: old.id } })).toBe(0);
    // Deleted with their task (a statement trigger: no foreign key), and only theirs.
    expect(await db().taskEvent.count({ where: { taskId: old.id } })).toBe(0);
    expect(await db().taskEvent.count({ where: { taskId: recent.id } })).toBe(1);
    expect(await db().task.count({ where: { id: { in: [recent.id, pending.id] } } })).toBe(2);
  });

  it('keeps FAILED, TIMEOUT and DEAD tasks longer than COMPLETED and CANCELLED ones, each by its own setting', async () => {
    const { deleteFinishedTasks } = await import('../../src/queue/delete-finished.js');
    const owner = await adminUserId();
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    const endedAgo = async (
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'TIMEOUT' | 'DEAD',
      hours: number,
    ) =>
      (
        await db().task.create({
          data: {
            type: 'test_sleep',
            status,
            ownerId: owner,
            teamId,
            completedAt: new Date(Date.now() - hours * 3_600_000),
          },
        })
      ).id;
    // Two days old: past the COMPLETED/CANCELLED retention only.
    const twoDays = {
      COMPLETED: await endedAgo('COMPLETED', 48),
      CANCELLED: await endedAgo('CANCELLED', 48),
      FAILED: await endedAgo('FAILED', 48),
      TIMEOUT: await endedAgo('TIMEOUT', 48),
      DEAD: await endedAgo('DEAD', 48),
    };
    // Ten days old: past the FAILED/TIMEOUT retention too, not the DEAD one.
    const tenDays = { FAILED: await endedAgo('FAILED', 240), DEAD: await endedAgo('DEAD', 240) };
    const fortyDaysDead = await endedAgo('DEAD', 960);
    await deleteFinishedTasks(db(), {
      retentionMs: 24 * 3_600_000,
      failedRetentionMs: 7 * 24 * 3_600_000,
      deadRetentionMs: 30 * 24 * 3_600_000,
    });
    const left = new Set(
      (await db().task.findMany({ select: { id: true } })).map((task) => task.id),
    );
    expect(left.has(twoDays.COMPLETED)).toBe(false);
    expect(left.has(twoDays.CANCELLED)).toBe(false);
    expect(left.has(twoDays.FAILED)).toBe(true);
    expect(left.has(twoDays.TIMEOUT)).toBe(true);
    expect(left.has(twoDays.DEAD)).toBe(true);
    expect(left.has(tenDays.FAILED)).toBe(false);
    expect(left.has(tenDays.DEAD)).toBe(true);
    expect(left.has(fortyDaysDead)).toBe(false);
  });
});

describe("the worker's statements", () => {
  const pubsub = createInProcessPubSub('worker-statements:');
  async function claimAll(workerId: string, count: number) {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const owner = await adminUserId();
    for (let i = 0; i < count; i++)
      await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    const claimed = await claimTasks(db(), workerId, {
      types: ['test_sleep'],
      leaseMs: 60_000,
      limit: count,
      startNow: count,
    });
    // The columns a claim does not read come back NULL (set in the rows: lockedBy is the lease).
    for (const row of claimed)
      for (const name of NOT_CLAIMED_COLUMNS) expect(row).toHaveProperty(name, null);
    const leased = await db().task.findMany({ where: { id: { in: claimed.map((r) => r.id) } } });
    expect(leased.map((row) => row.lockedBy)).toEqual(claimed.map(() => workerId));
    return claimed;
  }
  const BACKOFF = { baseMs: 20, maxMs: 200, maxLeaseLosses: 3, maxPostponements: 3 };

  it('finishes attempts, each change with its event, and claims the freed slots beside them', async () => {
    const { writeTaskChanges } = await import('../../src/queue/write-changes.js');
    const { claimTasks } = await import('../../src/queue/claim.js');
    const running = await claimAll('worker-a', 3);
    const owner = await adminUserId();
    const waiting = [];
    for (const priority of ['LOW', 'HIGH', 'MEDIUM'] as const)
      waiting.push(
        (await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner, priority })).id,
      );
    const changes = [
      {
        kind: 'COMPLETED' as const,
        taskId: running[0]!.id,
        attempt: 1,
        result: { n: 1 },
        message: 'completed',
      },
      {
        kind: 'FAILED' as const,
        taskId: running[1]!.id,
        attempt: 1,
        error: 'bad payload',
        message: 'failed: bad payload',
      },
      // Not held by this worker: left alone.
      {
        kind: 'COMPLETED' as const,
        taskId: running[2]!.id,
        attempt: 1,
        result: null,
        message: 'completed',
      },
    ];
    await db().task.update({ where: { id: running[2]!.id }, data: { lockedBy: 'worker-b' } });
    const [changed, claimed] = await Promise.all([
      writeTaskChanges(db(), 'worker-a', changes, BACKOFF),
      claimTasks(db(), 'worker-a', {
        types: ['test_sleep'],
        leaseMs: 60_000,
        limit: 2,
        startNow: 1,
      }),
    ]);
    expect(changed.map((row) => [row.id, row.status]).sort()).toEqual(
      [
        [running[0]!.id, 'COMPLETED'],
        [running[1]!.id, 'FAILED'],
      ].sort(),
    );
    expect(claimed.map((row) => row.id)).toEqual([waiting[1], waiting[2]]);
    const rows = await db().task.findMany({
      where: { id: { in: [...running.map((r) => r.id), ...waiting] } },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(running[0]!.id)).toMatchObject({
      status: 'COMPLETED',
      result: { n: 1 },
      progressPercent: 100,
      lockedBy: null,
    });
    expect(byId.get(running[1]!.id)).toMatchObject({
      status: 'FAILED',
      error: 'bad payload',
      lockedBy: null,
    });
    expect(byId.get(running[2]!.id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-b' });
    expect(byId.get(waiting[0]!)).toMatchObject({ status: 'PENDING' });
    for (const id of [waiting[1]!, waiting[2]!])
      expect(byId.get(id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-a', attempts: 1 });
    // The first claimed for a free slot starts now; the other waits in the local queue.
    expect(byId.get(waiting[1]!)!.startedAt).not.toBeNull();
    expect(byId.get(waiting[2]!)!.startedAt).toBeNull();
    for (const row of rows) {
      const events = await db().taskEvent.findMany({
        where: { taskId: row.id },
        orderBy: { sequence: 'asc' },
      });
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
      // A claim writes no event: a claimed task's log says PENDING until its start is recorded.
      expect(events.at(-1)).toMatchObject({
        sequence: row.lastSequence,
        status: row.status === 'RUNNING' ? 'PENDING' : row.status,
      });
    }
  });

  it('renews only the leases of the tasks the worker holds: one in its name it does not know of expires', async () => {
    const { renewLeases } = await import('../../src/queue/renew-leases.js');
    const [known, unknown] = await claimAll('worker-r', 2);
    await db().task.updateMany({
      where: { id: { in: [known!.id, unknown!.id] } },
      data: { lockedUntil: new Date(Date.now() - 1_000) },
    });
    const renewed = await renewLeases(db(), 'worker-r', 60_000, [known!.id]);
    expect(renewed.map((row) => row.id)).toEqual([known!.id]);
    const rows = await db().task.findMany({ where: { id: { in: [known!.id, unknown!.id] } } });
    const until = new Map(rows.map((row) => [row.id, row.lockedUntil!.getTime()]));
    expect(until.get(known!.id)!).toBeGreaterThan(Date.now());
    expect(until.get(unknown!.id)!).toBeLessThan(Date.now());
  });

  it('renews past a lease whose row another transaction holds, without waiting or losing it', async () => {
    const { renewLeases } = await import('../../src/queue/renew-leases.js');
    const pg = (await import('pg')).default;
    const [first, second] = await claimAll('worker-l', 2);
    const [lockedRow, freeRow] = [first!, second!].sort((a, b) => (a.id < b.id ? -1 : 1));
    await db().task.updateMany({
      where: { id: { in: [lockedRow!.id, freeRow!.id] } },
      data: { lockedUntil: new Date(Date.now() + 1_000) },
    });
    // The first row in id order held by an open transaction (as a turn writing its end holds
    // it): a heartbeat that waited for it would also keep the second from every other writer.
    const locker = new pg.Client({ connectionString: h.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [lockedRow!.id]);
      const renewing = renewLeases(db(), 'worker-l', 60_000, [lockedRow!.id, freeRow!.id]);
      const waited = await Promise.race([
        renewing.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 5_000)),
      ]);
      expect(waited).toBe(false);
      const rows = await renewing;
      // Both still the worker's (neither lost): the free one renewed, the locked one left.
      expect(rows.map((row) => [row.id, row.renewed]).sort()).toEqual(
        [
          [lockedRow!.id, false],
          [freeRow!.id, true],
        ].sort(),
      );
      const free = await db().task.findUniqueOrThrow({ where: { id: freeRow!.id } });
      expect(free.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // Not this worker's: neither renewed nor reported.
    expect(await renewLeases(db(), 'worker-other', 60_000, [freeRow!.id])).toEqual([]);
  });

  it('finishes a batch while the heartbeat renews the same leases without deadlocking', async () => {
    const { writeTaskChanges } = await import('../../src/queue/write-changes.js');
    const { renewLeases } = await import('../../src/queue/renew-leases.js');
    const running = await claimAll('worker-a', 120);
    // Outcomes in the reverse of the table's order, while the heartbeat walks the table forwards.
    const outcomes = running
      .map((row) => ({
        kind: 'COMPLETED' as const,
        taskId: row.id,
        attempt: row.attempts,
        result: null,
        message: 'completed',
      }))
      .reverse();
    const batches = Array.from({ length: 6 }, (_, i) => outcomes.slice(i * 20, i * 20 + 20));
    const heartbeats = (async () => {
      const held = running.map((row) => row.id);
      for (let i = 0; i < 40; i++) await renewLeases(db(), 'worker-a', 60_000, held);
    })();
    const finished = await Promise.all(
      batches.map((batch) => writeTaskChanges(db(), 'worker-a', batch, BACKOFF)),
    );
    await heartbeats;
    expect(finished.flat()).toHaveLength(120);
    expect(
      await db().task.count({
        where: { id: { in: running.map((r) => r.id) }, status: 'COMPLETED' },
      }),
    ).toBe(120);
  });

  it('prepares the hot statements once per connection, and only those', async () => {
    const owner = await adminUserId();
    const task = {
      type: 'test_sleep',
      priority: 'LOW' as const,
      payload: { ms: 1 },
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId: owner,
    };
    // One transaction: one connection, whose prepared statements the view lists.
    const ids: string[] = [];
    const prepared = await db().$transaction(async (tx) => {
      for (let i = 0; i < 7; i++) ids.push((await insertTask(tx, task)).task.id);
      await tx.$queryRaw`SELECT 'not marked' AS probe`;
      return tx.$queryRaw<
        Array<{ name: string; statement: string; generic_plans: bigint; custom_plans: bigint }>
      >`
        SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements`;
    });
    // Earlier tests may have left the queue's other statements prepared on this connection.
    expect(
      prepared.every(
        (each) =>
          /^prepared_[0-9a-f]{24}$/.test(each.name) && each.statement.startsWith('/* prepared */'),
      ),
    ).toBe(true);
    const inserts = prepared.filter((each) => each.statement.includes('INSERT INTO tasks'));
    expect(inserts).toHaveLength(1);
    // Seven runs (at least) of the one statement prepared.
    expect(
      Number(inserts[0]!.generic_plans) + Number(inserts[0]!.custom_plans),
    ).toBeGreaterThanOrEqual(7);
    expect(await db().task.count({ where: { id: { in: ids }, status: 'PENDING' } })).toBe(7);
  });

  it('can claim a task the moment it is enqueued: runAt is not rounded past now()', async () => {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const owner = await adminUserId();
    const type = `claim-at-once-${randomUUID()}`;
    // In a transaction now() stands still: a runAt rounded up past it (at milliseconds, one in
    // two) is not due yet. Ten transactions, each with its own now().
    const rolledBack = new Error('roll back');
    let claimed = 0;
    for (let i = 0; i < 10; i++) {
      await db()
        .$transaction(async (tx) => {
          await insertTask(tx, {
            type,
            priority: 'HIGH',
            payload: {},
            maxAttempts: 1,
            timeoutSeconds: 60,
            ownerId: owner,
          });
          const claim = { types: [type], leaseMs: 60_000, limit: 1, startNow: 1 };
          claimed += (await claimTasks(tx, 'worker-at-once', claim)).length;
          throw rolledBack;
        })
        .catch((error: unknown) => {
          if (error !== rolledBack) throw error;
        });
    }
    expect(claimed).toBe(10);
  });

  it("keeps its prepared statements working when a migration adds a column or changes a column's precision (a rolling deploy)", async () => {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const { writeTaskChanges } = await import('../../src/queue/write-changes.js');
    const owner = await adminUserId();
    const task = {
      type: 'test_sleep',
      priority: 'LOW' as const,
      payload: { ms: 1 },
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId: owner,
      runAt: new Date(Date.now() - 1_000),
    };
    type Tx = Parameters<Parameters<ReturnType<typeof db>['$transaction']>[0]>[0];
    const turn = async (tx: Tx) => {
      await insertTask(tx, task);
      await insertTask(tx, task);
      const claim = { types: ['test_sleep'], leaseMs: 60_000, limit: 1, startNow: 1 };
      const [claimed] = await claimTasks(tx, 'worker-deploy', claim);
      const outcome = {
        kind: 'COMPLETED' as const,
        taskId: claimed!.id,
        attempt: claimed!.attempts,
        result: null,
        message: 'completed',
      };
      const changed = await writeTaskChanges(tx, 'worker-deploy', [outcome], BACKOFF);
      const next = await claimTasks(tx, 'worker-deploy', claim);
      const done = await writeTaskChanges(
        tx,
        'worker-deploy',
        [{ ...outcome, taskId: next[0]!.id, attempt: next[0]!.attempts }],
        BACKOFF,
      );
      return [...changed, ...done].map((row) => row.status);
    };
    // One connection throughout; the added column is rolled back with the transaction.
    const rolledBack = new Error('roll back');
    const statuses: string[][] = [];
    await db()
      .$transaction(async (tx) => {
        statuses.push(await turn(tx));
        await tx.$executeRaw`ALTER TABLE tasks ADD COLUMN added_by_a_later_release integer`;
        // Every column with a precision (a type modifier): the timestamps, which taskColumns casts.
        const modified = await tx.$queryRaw<Array<{ name: string; type: string }>>`
          SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
          WHERE attrelid = 'tasks'::regclass AND attnum > 0 AND NOT attisdropped AND atttypmod <> -1`;
        expect(modified.map((column) => column.type)).toEqual(
          modified.map(() => 'timestamp with time zone'),
        );
        for (const { name } of modified)
          await tx.$executeRawUnsafe(
            `ALTER TABLE tasks ALTER COLUMN "${name}" TYPE timestamptz(2)`,
          );
        statuses.push(await turn(tx));
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    expect(statuses).toEqual([
      ['COMPLETED', 'COMPLETED'],
      ['COMPLETED', 'COMPLETED'],
    ]);
  });
});

describe('open tasks are found through their partial indexes, not by reading the table', () => {
  /** Sequential scans of tasks and workflow steps by `read`, counted inside its own transaction. */
  async function tasksScannedBy(read: (tx: Transaction) => Promise<unknown>): Promise<number> {
    return inTransaction(async (tx) => {
      const scans = async () =>
        (
          await tx.client.$queryRaw<[{ n: number }]>`
            SELECT coalesce(sum(seq_scan), 0)::int AS n FROM pg_stat_xact_user_tables
            WHERE relname IN ('tasks', 'workflow_steps')`
        )[0].n;
      const before = await scans();
      await read(tx);
      return (await scans()) - before;
    });
  }

  /**
   * 5,000 tasks of `type`, finished; `analyzedWhile` they were PENDING (a burst's statistics)
   * or once finished. As workflow steps, each with its step (PENDING or SUCCEEDED as its task,
   * SUCCEEDED at the end), in one workflow.
   */
  async function finishedTasks(
    type: 'test_sleep' | 'workflow_step',
    analyzedWhile: 'PENDING' | 'finished',
  ) {
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    const ids = await db().$queryRaw<Array<{ id: string }>>`
      INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId")
      SELECT ${type}, '{}'::jsonb, 1, 1, 'queued', ${teamId}::uuid FROM generate_series(1, 5000)
      RETURNING id`;
    if (type === 'workflow_step') {
      const [workflow] = await db().$queryRaw<[{ id: string }]>`
        INSERT INTO workflows ("teamId", "ownerId", goal, planner, status)
        VALUES (${teamId}::uuid, ${await adminUserId()}::uuid, 'finished steps', 'local', 'SUCCEEDED')
        RETURNING id`;
      await db().$executeRaw`
        INSERT INTO workflow_steps ("workflowId", key, kind, status, "taskId")
        SELECT ${workflow.id}::uuid, 's' || n, 'NOOP',
               ${analyzedWhile === 'PENDING' ? 'PENDING' : 'SUCCEEDED'}::"WorkflowStepStatus", id
        FROM unnest(${ids.map((row) => row.id)}::uuid[]) WITH ORDINALITY AS t(id, n)`;
    }
    if (analyzedWhile === 'PENDING') await db().$executeRaw`ANALYZE tasks, workflow_steps`;
    await db().$executeRaw`
      UPDATE tasks SET status = 'COMPLETED', "startedAt" = now(), "completedAt" = now()
      WHERE type = ${type}`;
    await db().$executeRaw`
      UPDATE workflow_steps s SET status = 'SUCCEEDED' FROM tasks t
      WHERE t.id = s."taskId" AND t.type = ${type} AND s.status = 'PENDING'`;
    if (analyzedWhile === 'finished') await db().$executeRaw`ANALYZE tasks, workflow_steps`;
  }

  it("records a worker's ends by the tasks' keys when the table looks small to the cached plan", async () => {
    const { writeTaskChanges } = await import('../../src/queue/write-changes.js');
    const { claimTasks } = await import('../../src/queue/claim.js');
    await finishedTasks('test_sleep', 'finished');
    await enqueueTestTask(
      createInProcessPubSub('small-table:'),
      testSleep,
      { ms: 1 },
      {
        ownerId: await adminUserId(),
      },
    );
    const [task] = await claimTasks(db(), 'worker-s', {
      types: ['test_sleep'],
      leaseMs: 60_000,
      limit: 1,
      startNow: 1,
    });
    const scans = await tasksScannedBy(async (tx) => {
      // The plan a pooled connection caches: the changes guessed at a hundred rows, and a
      // table of a few thousand reads cheaper whole than by a hundred lookups.
      await tx.client.$executeRawUnsafe('SET LOCAL plan_cache_mode = force_generic_plan');
      const changed = await writeTaskChanges(
        tx.client,
        'worker-s',
        [{ kind: 'COMPLETED', taskId: task!.id, attempt: 1, result: null, message: 'completed' }],
        { baseMs: 20, maxMs: 200, maxLeaseLosses: 3, maxPostponements: 3 },
      );
      expect(changed.map((row) => row.status)).toEqual(['COMPLETED']);
    });
    expect(scans).toBe(0);
  });

  it("answers a worker's claim-conflict check from the claim order's index, even on a burst's statistics", async () => {
    await finishedTasks('test_sleep', 'PENDING');
    let due: boolean | undefined;
    const scans = await tasksScannedBy(async (tx) => {
      due = await dueTasksRemain(tx.client, ['test_sleep']);
    });
    expect(due).toBe(false);
    expect(scans).toBe(0);
  });

  it("cancels the open tasks of ended steps in the reconciler's sweep, and only those", async () => {
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    const [workflow] = await db().$queryRaw<[{ id: string }]>`
      INSERT INTO workflows ("teamId", "ownerId", goal, planner, status)
      VALUES (${teamId}::uuid, ${await adminUserId()}::uuid, 'sweep', 'local', 'RUNNING')
      RETURNING id`;
    // [task status, step status]: the first two ended under their open tasks.
    const cases = [
      ['PENDING', 'SUCCEEDED'],
      ['RUNNING', 'CANCELLED'],
      ['PENDING', 'READY'],
      ['RUNNING', 'RUNNING'],
    ] as const;
    const ids: string[] = [];
    for (const [n, [taskStatus, stepStatus]] of cases.entries()) {
      const [task] = await db().$queryRaw<[{ id: string }]>`
        INSERT INTO tasks (type, payload, status, "lockedBy", "lockedUntil", "lastSequence", "teamId")
        VALUES ('workflow_step', '{}'::jsonb, ${taskStatus}::"TaskStatus",
                ${taskStatus === 'RUNNING' ? 'worker-x' : null},
                ${taskStatus === 'RUNNING' ? new Date(Date.now() + 60_000) : null}, 1, ${teamId}::uuid)
        RETURNING id`;
      await db().$executeRaw`
        INSERT INTO workflow_steps ("workflowId", key, kind, status, "taskId")
        VALUES (${workflow.id}::uuid, ${`s${n}`}, 'NOOP', ${stepStatus}::"WorkflowStepStatus", ${task.id}::uuid)`;
      ids.push(task.id);
    }
    const cancelled = await cancelTasksOfEndedSteps(db());
    expect(cancelled.map((task) => task.id).sort()).toEqual([ids[0], ids[1]].sort());
    const rows = await db().task.findMany({ where: { id: { in: ids } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(ids.map((id) => [byId.get(id)!.status, byId.get(id)!.cancellationRequested])).toEqual([
      ['CANCELLED', true],
      ['RUNNING', true],
      ['PENDING', false],
      ['RUNNING', false],
    ]);
    expect(await cancelTasksOfEndedSteps(db())).toEqual([]);
  });

  it.each(['finished', 'PENDING'] as const)(
    "runs the reconciler's sweep of tasks whose steps ended without reading every task or step (analyzed while %s)",
    async (analyzedWhile) => {
      await finishedTasks('workflow_step', analyzedWhile);
      const scans = await tasksScannedBy((tx) => cancelTasksOfEndedSteps(tx.client));
      expect(scans).toBe(0);
    },
  );
});
