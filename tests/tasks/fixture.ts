// What the task test files share: the harness with no worker outliving its test, an agent
// to refresh, the refresh and task operations, a wait for a task's state, and a test task of the
// admin's added with the app and a worker started.
import { afterEach, expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { insertTask } from '../../src/queue/insert-task.js';
import { CreateAgentMutation } from '../client/operations.js';
import { toGlobalId } from '../../src/schema/ids.js';
import type { TaskSpec } from '../../src/queue/task-spec.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness } from '../utils/harness.js';
import { enqueueTestTask } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

export const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

/** A task of `type`, one no worker runs: only the test that adds it claims it. */
export async function addUnrunTask(type: string, ownerId: string) {
  const { task } = await insertTask(db(), {
    type,
    priority: 'MEDIUM',
    payload: {},
    maxAttempts: 3,
    timeoutSeconds: 60,
    ownerId,
  });
  return task;
}

export const refresh = `mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) {
  task { id status priority queuePosition progressPercent attempts maxAttempts webhookUrl agent { id } estimatedCompletionAt } coverage { overallCoverage } } }`;
export const taskQuery = `query($id: ID!) { task(id: $id) { id type status progressPercent currentStep queuePosition attempts maxAttempts result error
  cancellationRequested startedAt completedAt events(first: 100) { edges { node { sequence status progressPercent currentStep message } } } } }`;
export const finished = (status: string) =>
  ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'].includes(status);

/**
 * What cancelTask answers for a running task: read once the worker was told, it is RUNNING
 * (asked to stop) or, when the worker stopped the run before that read, already CANCELLED.
 */
export const stillRunningOrStopped = ['RUNNING', 'CANCELLED'];

/** The tasks' rows by id, once every one of them ended (finished). */
export async function endedTasks(ids: readonly string[]) {
  return waitFor(async () => {
    const found = await db().task.findMany({ where: { id: { in: [...ids] } } });
    return found.length === ids.length && found.every((row) => finished(row.status))
      ? new Map(found.map((row) => [row.id, row]))
      : undefined;
  }, 'every task ended');
}

/** Each task's event log gap-free from 1, its last event the status its row ended in. */
export async function expectLogsGapFree(rows: ReadonlyMap<string, { status: string }>) {
  for (const [id, row] of rows) {
    const events = await db().taskEvent.findMany({
      where: { taskId: id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.status).toBe(row.status);
  }
}

/** The harness of one test file and helpers bound to it; call it once, at the top. */
export function useTasks() {
  const h = useHarness();
  // Each test owns the queue: no worker outlives the test that started it.
  afterEach(() => h.stopWorkers());

  async function agentFixture() {
    const corpus = await createCorpus(h);
    const response = await h.gql(CreateAgentMutation, {
      input: {
        name: 'Tasks agent',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai],
      },
    });
    return response.data!.createAgentFromTaxonomy;
  }

  async function taskUntil(id: string, done: (task: any) => boolean) {
    return waitFor(async () => {
      const task = (await h.gql(taskQuery, { id })).data?.task;
      return task && done(task) ? task : undefined;
    }, `task ${id}`);
  }

  /**
   * The app and a worker started, and a test task of the admin's added: its row and its
   * global id. `options`: the task's own limits.
   */
  async function adminTaskRunning<Payload>(
    spec: TaskSpec<Payload>,
    payload: Payload,
    options: { timeoutSeconds?: number } = {},
  ) {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(app.pubsub, spec, payload, {
      ownerId: await adminUserId(),
      ...options,
    });
    return { row, id: toGlobalId('Task', row.id) };
  }

  return { h, agentFixture, taskUntil, adminTaskRunning };
}
