// A change PostgreSQL refuses for a reason storable.ts does not foresee (here a trigger's
// data exception, SQLSTATE 22023) no longer holds back the worker's other changes: a turn
// writes many tasks' changes in one statement and was tried again whole, so every later turn
// failed and no end of that worker was recorded again. Now the refused turn's tasks are
// written apart until the change at fault is found (src/workers/refused-changes.ts): an end
// is written without its result, a progress report dropped, and every other change recorded.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { logger } from '../../src/platform/logger.js';
import type { TaskChange } from '../../src/queue/write-changes.js';
import { plainEnd, RefusedChanges, refusedForData } from '../../src/workers/refused-changes.js';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, testOutput, testSleep } from '../utils/test-tasks.js';

const { h } = useTasks();

afterEach(async () => {
  await db().$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_marked ON tasks');
  await db().$executeRawUnsafe('DROP FUNCTION IF EXISTS refuse_marked()');
});

describe('a change PostgreSQL refuses for its data', () => {
  it('is found and written plainly or dropped, and every other change is recorded', async () => {
    await db().$executeRawUnsafe(`
      CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.result @> '{"refuse": true}' OR NEW."currentStep" = 'refuse me' THEN
          RAISE EXCEPTION 'refused for the test' USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
      END $$`);
    await db().$executeRawUnsafe(`
      CREATE TRIGGER refuse_marked BEFORE UPDATE ON tasks
      FOR EACH ROW EXECUTE FUNCTION refuse_marked()`);
    const app = await h.startApp();
    const ownerId = await adminUserId();
    await h.startWorker(app.pubsub, { concurrency: 4, batchSize: 16 });
    const refusedResult = (
      await enqueueTestTask(app.pubsub, testOutput, { output: 'refused-result' }, { ownerId })
    ).id;
    const refusedProgress = (
      await enqueueTestTask(app.pubsub, testOutput, { output: 'refused-progress' }, { ownerId })
    ).id;
    const plain: string[] = [];
    for (let i = 0; i < 12; i++)
      plain.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 30 }, { ownerId })).id);

    const ids = [refusedResult, refusedProgress, ...plain];
    const rows = await endedTasks(ids);

    for (const id of plain) expect(rows.get(id)!.status).toBe('COMPLETED');
    // Its end written without the result PostgreSQL refused: the attempt failed, saying why.
    expect(rows.get(refusedResult)).toMatchObject({
      status: 'FAILED',
      result: null,
      error: 'its end could not be recorded (22023: refused for the test)',
    });
    // Its refused progress report dropped; its end recorded.
    expect(rows.get(refusedProgress)).toMatchObject({
      status: 'COMPLETED',
      result: { reported: true },
    });
    expect(
      await db().taskEvent.count({ where: { taskId: refusedProgress, currentStep: 'refuse me' } }),
    ).toBe(0);
    await expectLogsGapFree(rows);
    // Nothing left held: the worker stops at once.
    await h.stopWorkers();
  });
});

describe('RefusedChanges', () => {
  const log = logger.child({ test: 'refused-changes' });
  const change = (taskId: string): TaskChange => ({
    kind: 'COMPLETED',
    taskId,
    attempt: 1,
    result: { refuse: true },
    message: 'completed',
  });
  const refusedError = Object.assign(new Error('refused'), { code: '22023' });

  it('halves the refused tasks at each refusal until the one at fault is alone', () => {
    const refused = new RefusedChanges();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const empty = { ends: new Map(), progress: new Map(), unrecorded: new Set<string>() };
    refused.setApart(
      { changes: ids.map(change), ends: new Map(), progress: new Map() },
      empty,
      refusedError,
      log,
    );
    const first = refused.nextGroup(new Set())!;
    expect(first.size).toBe(4);
    // The other half goes beside it (not in flight there).
    expect(refused.nextGroup(first)!.size).toBe(4);
    // The first half refused again: halves of 2, taken before the untried half of 4.
    refused.setApart(
      { changes: [...first].map(change), ends: new Map(), progress: new Map() },
      empty,
      refusedError,
      log,
    );
    expect(refused.nextGroup(new Set())!.size).toBe(2);
    // Written: no longer set apart.
    for (const id of ids) refused.forget(id);
    expect(refused.size).toBe(0);
    expect(refused.nextGroup(new Set())).toBeUndefined();
  });

  it('rewrites a refused end plainly once, then gives it up', () => {
    const refused = new RefusedChanges();
    const resolved: unknown[] = [];
    const end = { change: change('a'), resolve: (row: undefined) => resolved.push(row) };
    const waiting = {
      ends: new Map([['a', end]]),
      progress: new Map(),
      unrecorded: new Set<string>(),
    };
    const turn = { changes: [end.change], ends: new Map([['a', end]]), progress: new Map() };
    refused.setApart(turn, waiting, refusedError, log);
    expect(end.change).toEqual({
      kind: 'FAILED',
      taskId: 'a',
      attempt: 1,
      error: 'its end could not be recorded (22023: refused)',
      message: 'failed: its end could not be recorded (22023: refused)',
    });
    expect(waiting.ends.get('a')).toBe(end);
    expect(refused.nextGroup(new Set())).toEqual(new Set(['a']));
    refused.setApart({ ...turn, changes: [end.change] }, waiting, refusedError, log);
    expect(waiting.ends.has('a')).toBe(false);
    expect(resolved).toEqual([undefined]);
    expect(refused.size).toBe(0);
  });

  it("keeps a refused retry's postponed or interrupted run as it was", () => {
    // Rewritten plainly, a postponed run must not become a failure that spends an attempt.
    for (const flag of ['postponed', 'interrupted'] as const) {
      const retry: TaskChange = {
        kind: 'RETRY',
        taskId: 'a',
        attempt: 2,
        error: 'waiting',
        delayMs: 1_500,
        [flag]: true,
      };
      expect(plainEnd(retry, refusedError)).toEqual({
        kind: 'RETRY',
        taskId: 'a',
        attempt: 2,
        error: 'its end could not be recorded (22023: refused)',
        delayMs: 1_500,
        [flag]: true,
      });
    }
  });

  it('tells a refusal for the data from a database away', () => {
    expect(refusedForData(refusedError)).toBe(true);
    expect(refusedForData(Object.assign(new Error('too big'), { code: '54000' }))).toBe(true);
    expect(refusedForData(new RangeError('Invalid string length'))).toBe(true);
    expect(refusedForData(Object.assign(new Error('terminating'), { code: '57P01' }))).toBe(false);
    expect(refusedForData(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      false,
    );
    expect(refusedForData(new Error('no code'))).toBe(false);
  });
});
