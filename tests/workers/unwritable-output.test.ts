// A handler's output that PostgreSQL cannot store as it is (a NUL or a lone surrogate in its
// text, a result that is no JSON, a progress percent that is no number) is made storable
// before it joins a turn (src/platform/storable.ts). A turn writes many tasks' changes in one
// statement: one refused change failed the turn and every later one, so that none of the
// worker's ends was recorded again and its tasks stayed RUNNING under renewed leases.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, testOutput, testSleep } from '../utils/test-tasks.js';

const { h } = useTasks();

describe("a handler's unstorable output", () => {
  it('is stored made storable, and the worker goes on recording every other end', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 8 });
    const outputs = [
      'nul-error',
      'bigint-result',
      'circular-result',
      'nul-result',
      'nan-progress',
    ] as const;
    const odd = new Map<string, (typeof outputs)[number]>();
    for (const output of outputs)
      odd.set((await enqueueTestTask(app.pubsub, testOutput, { output }, { ownerId })).id, output);
    const plain: string[] = [];
    for (let i = 0; i < 5; i++)
      plain.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId })).id);

    const ids = [...odd.keys(), ...plain];
    const rows = await endedTasks(ids);
    for (const id of plain) expect(rows.get(id)!.status).toBe('COMPLETED');

    const by = (output: (typeof outputs)[number]) =>
      rows.get([...odd].find(([, each]) => each === output)![0])!;
    // Its one attempt failed: DEAD, with what it threw.
    expect(by('nul-error')).toMatchObject({
      status: 'DEAD',
      error: 'bad byte \uFFFD, a lone \uFFFD half',
    });
    for (const output of ['bigint-result', 'circular-result'] as const) {
      expect(by(output).status).toBe('FAILED');
      expect(by(output).error).toMatch(/^its result cannot be stored as JSON: /);
    }
    expect(by('nul-result')).toMatchObject({
      status: 'COMPLETED',
      result: { text: 'a\uFFFDb', ['key\uFFFD']: ['\uFFFD low half'] },
    });
    expect(by('nan-progress')).toMatchObject({ status: 'COMPLETED', result: { reported: true } });
    const progress = await db().taskEvent.findFirst({
      where: { taskId: by('nan-progress').id, status: 'RUNNING', currentStep: { not: null } },
      orderBy: { sequence: 'desc' },
    });
    expect(progress).toMatchObject({ progressPercent: 0, currentStep: 'step \uFFFD' });

    await expectLogsGapFree(rows);
  });
});
