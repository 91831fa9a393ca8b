// What the taskProgress test files share: the harness with no worker outliving its test, the
// subscription, the owner of enqueued test tasks, a task's event log, and a follower.
import { afterEach, expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';

export const progress = `subscription($taskId: ID!, $after: Int) {
  taskProgress(taskId: $taskId, afterSequence: $after) { sequence status progressPercent currentStep message task { id status } } }`;
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

  async function subscribeAll(app: TestApp, taskId: string, singleConnection: boolean) {
    const client = sseClient({
      url: `${app.baseUrl}/graphql/stream`,
      key: h.adminKey,
      singleConnection,
    });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const { done } = listen<any>(client, progress, { taskId }, (value) =>
      events.push(value.data!.taskProgress),
    );
    await waitFor(async () => events.length > 0, 'the current state');
    return { events, done };
  }

  return { h, subscribeAll };
}
