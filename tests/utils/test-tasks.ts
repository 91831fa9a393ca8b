// Task types that exist only in tests: slow, failing and crash-prone work, so the
// engine's cancel, timeout, retry and recovery paths can be driven on purpose.
import { setTimeout as sleep } from 'node:timers/promises';
import { db } from '../../src/db.js';
import type { TaskPriority } from '../../src/generated/prisma/enums.js';
import type { PubSub } from '../../src/pubsub.js';
import { computeAndRecordCoverage } from '../../src/resolvers/coverage.js';
import { insertTask } from '../../src/workers/sql/enqueue.js';
import { defineTask, NonRetryableError, type TaskDefinition } from '../../src/workers/task-definition.js';
import { taskDefinitions } from '../../src/workers/tasks/index.js';
import type { TaskEngineConfig } from '../../src/config.js';

/** Fast engine timings for tests: lease 2 s, heartbeat 200 ms, poll 100 ms, backoff 20 ms. */
export const FAST_TASK_ENGINE: TaskEngineConfig = {
  concurrency: 4,
  leaseMs: 2_000,
  heartbeatMs: 200,
  pollMs: 100,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  retentionMs: 24 * 3_600_000,
  historyRetentionDays: 90,
};

const testSleep = defineTask<{ ms: number }>({
  type: 'test_sleep',
  timeoutSeconds: 60,
  maxAttempts: 1,
  parsePayload: (payload) => payload as { ms: number },
  async run({ ms }, { signal, reportProgress }) {
    const started = Date.now();
    while (Date.now() - started < ms) {
      reportProgress((100 * (Date.now() - started)) / ms, 'sleeping');
      await sleep(20, undefined, { signal });
    }
    return { slept: ms };
  },
});

const testFail = defineTask<{ failAttempts: number; nonRetryable?: boolean }>({
  type: 'test_fail',
  timeoutSeconds: 60,
  maxAttempts: 3,
  parsePayload: (payload) => payload as { failAttempts: number; nonRetryable?: boolean },
  async run({ failAttempts, nonRetryable }, { task }) {
    if (nonRetryable) throw new NonRetryableError('this can never work');
    if (task.attempts <= failAttempts) throw new Error(`transient failure on attempt ${task.attempts}`);
    return { succeededOnAttempt: task.attempts };
  },
});

/** Records coverage, then hangs on its first attempt (to be killed there); completes on the next. */
const testCoverageThenHang = defineTask<{ agentId: string }>({
  type: 'test_coverage_then_hang',
  timeoutSeconds: 120,
  maxAttempts: 3,
  parsePayload: (payload) => payload as { agentId: string },
  async run({ agentId }, { task, signal, reportProgress }) {
    reportProgress(30, 'computing coverage');
    await computeAndRecordCoverage(agentId, { taskId: task.id });
    if (task.attempts === 1) {
      reportProgress(60, 'hanging');
      await sleep(600_000, undefined, { signal });
    }
    return { attempt: task.attempts };
  },
});

export const testTaskDefinitions: ReadonlyMap<string, TaskDefinition<any>> = new Map<string, TaskDefinition<any>>([
  ...taskDefinitions,
  ...[testSleep, testFail, testCoverageThenHang].map((d) => [d.type, d as TaskDefinition<any>] as const),
]);

export async function enqueueTestTask(
  pubsub: PubSub,
  type: string,
  payload: unknown,
  options: { ownerId: string; priority?: TaskPriority; timeoutSeconds?: number; maxAttempts?: number; webhookUrl?: string; agentId?: string },
) {
  const definition = testTaskDefinitions.get(type)!;
  const { task } = await insertTask(db(), {
    type,
    payload,
    priority: options.priority ?? 'MEDIUM',
    maxAttempts: options.maxAttempts ?? definition.maxAttempts,
    timeoutSeconds: options.timeoutSeconds ?? definition.timeoutSeconds,
    ownerId: options.ownerId,
    agentId: options.agentId ?? null,
    webhookUrl: options.webhookUrl ?? null,
  });
  await pubsub.publish('taskReady', 'queue', { type });
  return task;
}
