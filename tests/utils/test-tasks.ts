// Task types that exist only in tests: slow, failing and crash-prone work, so the engine's
// cancel, timeout, retry and recovery paths can be driven on purpose. Declared and enqueued
// the way the service's own types are (a spec, a handler, the one `enqueue`).
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TaskPriority } from '../../src/generated/prisma/enums.js';
import type { TaskEngineConfig } from '../../src/platform/config.js';
import { db } from '../../src/platform/db.js';
import type { PubSub } from '../../src/platform/pubsub.js';
import { computeAndRecordCoverage } from '../../src/services/coverage/coverage.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { taskSpec, type TaskSpec } from '../../src/queue/task-spec.js';
import {
  defineTask,
  NonRetryableError,
  RetryLaterError,
  type TaskDefinition,
} from '../../src/queue/task-definition.js';

/** Fast engine timings for tests: lease 2 s, heartbeat 200 ms, poll 100 ms, backoff 20 ms. */
export const FAST_TASK_ENGINE: TaskEngineConfig = {
  concurrency: 4,
  batchSize: 8,
  maxLeaseLosses: 3,
  maxPostponements: 3,
  leaseMs: 2_000,
  heartbeatMs: 200,
  pollMs: 100,
  endHoldMs: 3,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  retentionMs: 24 * 3_600_000,
  failedRetentionMs: 7 * 24 * 3_600_000,
  deadRetentionMs: 30 * 24 * 3_600_000,
  historyRetentionDays: 90,
  artifactRetentionCount: 20,
};

export const testSleep = taskSpec({
  name: 'test_sleep',
  payload: z.object({ ms: z.number() }),
  maxAttempts: 1,
  timeoutSeconds: 60,
});

export const testFail = taskSpec({
  name: 'test_fail',
  payload: z.object({ failAttempts: z.number(), nonRetryable: z.boolean().optional() }),
  maxAttempts: 3,
  timeoutSeconds: 60,
});

/** What testWaitsOn's onFinished step was handed of each task that ended (by its id). */
export const waitsOnFinished = new Map<string, { status: string; postponements: number }>();

/**
 * Its first `postponedRuns` runs find what they wait on unavailable for `waitMs` (they throw
 * RetryLaterError, as a report's run whose LLM route cools down does), the next `failedRuns`
 * fail, and the one after completes.
 */
export const testWaitsOn = taskSpec({
  name: 'test_waits_on',
  payload: z.object({ postponedRuns: z.number(), failedRuns: z.number(), waitMs: z.number() }),
  maxAttempts: 2,
  timeoutSeconds: 60,
});

/** Records coverage, then hangs on its first attempt (to be killed there); completes on the next. */
export const testCoverageThenHang = taskSpec({
  name: 'test_coverage_then_hang',
  payload: z.object({ agentId: z.guid() }),
  maxAttempts: 3,
  timeoutSeconds: 120,
});

/** Waits to be stopped, then takes `cleanupMs` to wind down (an aborted call's cost written). */
export const testSlowCleanup = taskSpec({
  name: 'test_slow_cleanup',
  payload: z.object({ cleanupMs: z.number() }),
  maxAttempts: 1,
  timeoutSeconds: 60,
});

/** Its first attempt waits `holdMs` unless stopped; a later one runs `runMs` and completes. */
export const testHoldFirst = taskSpec({
  name: 'test_hold_first',
  payload: z.object({ holdMs: z.number(), runMs: z.number() }),
  maxAttempts: 3,
  timeoutSeconds: 60,
});

/**
 * Output PostgreSQL cannot store as it is: text with a NUL or a lone surrogate, a result that
 * is no JSON, a progress percent that is no number (src/platform/storable.ts).
 */
export const testOutput = taskSpec({
  name: 'test_output',
  payload: z.object({
    output: z.enum([
      'nul-error',
      'bigint-result',
      'circular-result',
      'nul-result',
      'nan-progress',
      // Values a test's trigger makes PostgreSQL refuse (tests/workers/refused-changes.test.ts).
      'refused-result',
      'refused-progress',
      // What a handler throws when PostgreSQL goes away while it runs: the driver's own error.
      'unreachable-database',
      // As that on its first run only.
      'unreachable-database-once',
      // Its first run reads the database until it goes away (up to 20 s); the next one returns.
      'database-away-once',
      // A refused connection elsewhere (port 1: nothing listens there): not the database's.
      'refused-connection',
    ]),
  }),
  maxAttempts: 1,
  timeoutSeconds: 60,
});

/** A statement on a connection the server ended under it (SQLSTATE 57P01, as at a shutdown). */
const loseConnection = () =>
  db().$transaction(async (tx) => {
    const [own] = await tx.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`;
    await db().$queryRaw`SELECT pg_terminate_backend(${own!.pid}::int)`;
    return tx.$queryRaw`SELECT 1`;
  });

/**
 * A poison task: it kills its worker's process the moment it starts, before the worker can
 * record its start. Only in a worker process of a test (spawnWorkerProcess sets
 * TEST_WORKER_PROCESS); anywhere else it fails, so that it can never take a test runner down.
 */
export const testKillsItsWorker = taskSpec({
  name: 'test_kills_its_worker',
  payload: z.object({}),
  maxAttempts: 3,
  timeoutSeconds: 60,
});

/**
 * Runs `ms`, then records its run in the table `test_task_runs` (task id, attempt, process id),
 * which the test that uses it creates: a side effect any process's run leaves.
 */
export const testRecordsRun = taskSpec({
  name: 'test_records_run',
  payload: z.object({ ms: z.number() }),
  maxAttempts: 3,
  timeoutSeconds: 60,
});

/**
 * Ends that commit with rows of their own, keyed by `key` (finishInTransaction, commitKey): each
 * runs `runMs`, and its commit holds its transaction `holdMs`, so that turns of one key and of
 * two can be told apart.
 */
export const testKeyedCommit = taskSpec({
  name: 'test_keyed_commit',
  payload: z.object({ key: z.string(), runMs: z.number(), holdMs: z.number() }),
  maxAttempts: 1,
  timeoutSeconds: 60,
});

/** Each test_keyed_commit commit: its tasks and keys, when it began and ended (performance.now). */
export const keyedCommits: Array<{ ids: string[]; keys: string[]; from: number; to: number }> = [];

/** When each test_slow_cleanup attempt finished winding down, by task id (Date.now()). */
export const cleanedUpAt = new Map<string, number>();
/** How each test_hold_first attempt was stopped, by task id: `<attempt>:<reason>`. */
export const holdStops = new Map<string, string[]>();

export const testTaskDefinitions: readonly TaskDefinition[] = [
  defineTask(testSlowCleanup, {
    async run({ cleanupMs }, { task, signal }) {
      await sleep(600_000, undefined, { signal }).catch(() => undefined);
      await sleep(cleanupMs);
      cleanedUpAt.set(task.id, Date.now());
      throw signal.reason;
    },
  }),
  defineTask(testHoldFirst, {
    async run({ holdMs, runMs }, { task, signal }) {
      try {
        await sleep(task.attempts === 1 ? holdMs : runMs, undefined, { signal });
      } catch (error) {
        const stops = holdStops.get(task.id) ?? [];
        holdStops.set(task.id, [...stops, `${task.attempts}:${(signal.reason as Error).message}`]);
        throw error;
      }
      return { attempt: task.attempts };
    },
  }),
  defineTask(testRecordsRun, {
    async run({ ms }, { task }) {
      await sleep(ms);
      await db().$executeRaw`INSERT INTO test_task_runs ("taskId", attempt, pid)
                             VALUES (${task.id}::uuid, ${task.attempts}, ${process.pid})`;
      return { pid: process.pid };
    },
  }),
  defineTask(testKillsItsWorker, {
    run() {
      if (process.env.TEST_WORKER_PROCESS !== '1')
        throw new NonRetryableError('test_kills_its_worker runs in a test worker process only');
      process.kill(process.pid, 'SIGKILL');
      return new Promise<never>(() => {});
    },
  }),
  defineTask(testKeyedCommit, {
    async run({ runMs }) {
      await sleep(runMs);
      return { done: true };
    },
    commitKey: (task) => (task.payload as { key: string }).key,
    async finishInTransaction(finished, tx) {
      const from = performance.now();
      const payloads = finished.map((task) => task.payload as { key: string; holdMs: number });
      const holdMs = Math.max(...payloads.map((p) => p.holdMs));
      await tx.client.$executeRaw`SELECT pg_sleep(${holdMs / 1000})`;
      keyedCommits.push({
        ids: finished.map((task) => task.id),
        keys: [...new Set(payloads.map((p) => p.key))],
        from,
        to: performance.now(),
      });
    },
  }),
  defineTask(testSleep, {
    async run({ ms }, { signal, reportProgress }) {
      const started = Date.now();
      while (Date.now() - started < ms) {
        reportProgress((100 * (Date.now() - started)) / ms, 'sleeping');
        await sleep(20, undefined, { signal });
      }
      return { slept: ms };
    },
  }),
  defineTask(testFail, {
    async run({ failAttempts, nonRetryable }, { task }) {
      if (nonRetryable) throw new NonRetryableError('this can never work');
      if (task.attempts <= failAttempts)
        throw new Error(`transient failure on attempt ${task.attempts}`);
      return { succeededOnAttempt: task.attempts };
    },
  }),
  defineTask(testWaitsOn, {
    async run({ postponedRuns, failedRuns, waitMs }, { task }) {
      if (task.attempts <= postponedRuns) throw new RetryLaterError('route cooling down', waitMs);
      if (task.attempts <= postponedRuns + failedRuns)
        throw new Error(`transient failure on run ${task.attempts}`);
      return { ranOn: task.attempts };
    },
    async onFinished(task) {
      waitsOnFinished.set(task.id, { status: task.status, postponements: task.postponements });
    },
  }),
  defineTask(testOutput, {
    async run({ output }, { reportProgress, task }) {
      switch (output) {
        case 'nul-error':
          throw new Error('bad byte \u0000, a lone \uD800 half');
        case 'bigint-result':
          return { big: 1n };
        case 'circular-result': {
          const cycle: Record<string, unknown> = {};
          cycle.self = cycle;
          return cycle;
        }
        case 'nul-result':
          return { text: 'a\u0000b', ['key\u0000']: ['\uDC00 low half'] };
        case 'nan-progress':
          reportProgress(0 / 0, 'step \u0000');
          await sleep(600);
          return { reported: true };
        case 'refused-result':
          return { refuse: true };
        case 'refused-progress':
          reportProgress(50, 'refuse me');
          await sleep(600);
          return { reported: true };
        case 'unreachable-database':
          return loseConnection();
        case 'unreachable-database-once':
          // Its first run's interruption is counted in leaseLosses, not in its attempts.
          return task.leaseLosses === 0 ? loseConnection() : { ranAgain: true };
        case 'database-away-once':
          if (task.leaseLosses > 0) return { ranAgain: true };
          for (let read = 0; read < 400; read++) {
            await db().$queryRaw`SELECT 1`;
            await sleep(50);
          }
          return { ranAgain: false };
        case 'refused-connection':
          return new Promise((_resolve, reject) => connect(1, '127.0.0.1').once('error', reject));
      }
    },
  }),
  defineTask(testCoverageThenHang, {
    async run({ agentId }, { task, signal, reportProgress }) {
      reportProgress(30, 'computing coverage');
      await computeAndRecordCoverage(agentId, { taskId: task.id });
      if (task.attempts === 1) {
        reportProgress(60, 'hanging');
        await sleep(600_000, undefined, { signal });
      }
      return { attempt: task.attempts };
    },
  }),
];

/** Enqueues a task as the service does (the one `enqueue`), with the test's limits on top. */
export async function enqueueTestTask<Payload>(
  pubsub: PubSub,
  spec: TaskSpec<Payload>,
  payload: Payload,
  options: {
    ownerId: string;
    /** None: the `default` team (the operator sees every task anyway). */
    teamId?: string | null;
    priority?: TaskPriority;
    timeoutSeconds?: number;
    maxAttempts?: number;
    webhookUrl?: string;
    agentId?: string;
  },
) {
  const { task } = await enqueue(spec, { payload, teamId: null, ...options }, { pubsub });
  return task;
}
