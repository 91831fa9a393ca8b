// What the taskProgress test files share: the harness with no worker outliving its test, the
// subscription, the owner of enqueued test tasks, a task's event log, and a follower.
import { afterEach, expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';

export const progress = `subscription($taskId: ID!, $after: Int) {
  taskProgress(taskId: $taskId, afterSequence: $after) { sequence status progressPercent currentStep message task { id status } } }`;
/** taskProgress with Task.events, which reads the log on every execution (findMany: Prisma does not batch it). */
export const progressWithLog = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { sequence status task { events(first: 1) { edges { node { sequence } } } } } }`;
export const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

export async function logOf(taskId: string) {
  return (await db().taskEvent.findMany({ where: { taskId }, orderBy: { sequence: 'asc' } })).map(
    (e) => e.sequence,
  );
}

export function expectGapFree(sequences: number[], from = 1) {
  expect(sequences).toEqual(sequences.map((_, i) => from + i));
}

/** The harness of one test file and a follower bound to it; call it once, at the top. */
export function useTaskProgress() {
  const h = useHarness();
  afterEach(() => h.stopWorkers());

  /** A follower of `taskId` over graphql-sse, once it has the current state. */
  async function follow(
    app: TestApp,
    taskId: string,
    { key = h.adminKey, query = progress, singleConnection = false } = {},
  ) {
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key, singleConnection });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const { done } = listen<any>(client, query, { taskId }, (value) => {
      expect(value.errors).toBeUndefined();
      events.push(value.data!.taskProgress);
    });
    await waitFor(async () => events.length > 0, 'the current state');
    return { events, done };
  }

  const subscribeAll = (app: TestApp, taskId: string, singleConnection: boolean) =>
    follow(app, taskId, { singleConnection });

  return { h, subscribeAll, follow };
}
