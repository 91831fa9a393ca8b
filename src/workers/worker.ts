// A worker process: claims tasks from PostgreSQL (the queue), runs up to `concurrency`
// at once under renewed leases, and records every outcome with its event. Redis only
// speeds things up (wake-ups, cancel pushes); without it the poll does the same work.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { TaskEngineConfig } from '../config.js';
import { db } from '../db.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { claimTasks } from './sql/claim.js';
import { batchWrites } from './batch.js';
import type { AttemptOutcome, WorkerMetrics } from './metrics.js';
import { finishAndClaimTasks } from './sql/finish-and-claim.js';
import type { TaskOutcomeOf } from './sql/finish.js';
import { reclaimExpiredLeases } from './sql/reclaim-expired.js';
import { recordProgress } from './sql/record-progress.js';
import { renewLeases } from './sql/renew-leases.js';
import { handBackTask } from './sql/requeue.js';
import { scheduleRetryOrDeadLetter } from './sql/schedule-retry.js';
import { isTerminal, type TaskEventJson, type TaskRow } from './sql/task-row.js';
import { NonRetryableError, type TaskDefinition } from './task-definition.js';

export interface WorkerOptions extends TaskEngineConfig {
  pubsub: PubSub;
  definitions: ReadonlyMap<string, TaskDefinition<any>>;
  /** Called with every task that reached a terminal state (webhooks hang off this). */
  onFinished?: (task: TaskRow) => Promise<void>;
  /** Periodic clean-up (retention), run by every worker about once a minute. */
  maintenance?: () => Promise<void>;
  metrics?: WorkerMetrics;
}

export interface RunningWorker {
  id: string;
  /** Stops claiming, lets running tasks finish until `graceMs`, hands back the rest. */
  stop(graceMs?: number): Promise<void>;
}

type StopReason = 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown';

interface Running {
  task: TaskRow;
  controller: AbortController;
  reason?: StopReason;
  done: Promise<void>;
}

/** Progress writes at most this often per task; the last one always lands. */
const PROGRESS_INTERVAL_MS = 250;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ module: 'worker', workerId: id });
  const types = [...options.definitions.keys()];
  const running = new Map<string, Running>();
  let stopping = false;
  let filling: Promise<void> | undefined;
  let fillAgain = false;

  const registration = { id, hostname: hostname(), pid: process.pid, concurrency: options.concurrency };
  options.metrics?.observeSlots(() => running.size, options.concurrency);
  await db().worker.create({ data: registration });

  /** Slots promised to claims in flight (so two claims never fill the same free slot). */
  let claiming = 0;
  const freeSlots = () => (stopping ? 0 : Math.max(0, options.concurrency - running.size - claiming));
  /** Claims in flight, each until its tasks have started (stop() waits for them). */
  const claimsInFlight = new Set<Promise<unknown>>();
  const claim = <T extends { claimed: TaskRow[] }>(slots: number, statement: () => Promise<T>): Promise<T> => {
    claiming += slots;
    const started = (async () => {
      try {
        const changed = await statement();
        for (const task of changed.claimed) start(task);
        return changed;
      } finally {
        claiming -= slots;
      }
    })();
    claimsInFlight.add(started);
    return started.finally(() => claimsInFlight.delete(started));
  };

  // Attempts that end together are recorded in one statement, which also claims the tasks
  // for the slots they free: a busy worker's turn is one commit.
  const finishTask = batchWrites(async (outcomes: TaskOutcomeOf[]) => {
    // The finishing tasks still count in `running` until this resolves.
    const limit = stopping ? 0 : Math.min(options.concurrency, freeSlots() + outcomes.length);
    const changed = await claim(limit, () => finishAndClaimTasks(db(), id, outcomes, { types, leaseMs: options.leaseMs, limit }));
    const rows = new Map(changed.finished.map((row) => [row.id, row]));
    return outcomes.map((outcome) => rows.get(outcome.taskId));
  });

  // The claim, progress and finish statements return the event they wrote; the notification
  // carries it, so that API processes need not read it back (see TaskEventHub).
  const publishEvent = (task: { id: string; lastSequence: number; event?: TaskEventJson }) =>
    options.pubsub.publish('taskEvents', task.id, { taskId: task.id, sequence: task.lastSequence, ...(task.event && { event: task.event }) });

  function stopTask(taskId: string, reason: StopReason) {
    const entry = running.get(taskId);
    if (!entry || entry.controller.signal.aborted) return;
    entry.reason = reason;
    entry.controller.abort(new Error(reason));
  }

  async function execute(task: TaskRow, entry: Running): Promise<void> {
    const definition = options.definitions.get(task.type)!;
    const taskLog = log.child({ taskId: task.id, type: task.type, attempt: task.attempts });
    const { signal } = entry.controller;
    const timeout = setTimeout(() => stopTask(task.id, 'timeout'), task.timeoutSeconds * 1000);
    let pending: { percent: number; step: string } | undefined;
    // The claim wrote this task's RUNNING event just now: it counts towards the rate.
    let lastWrite = Date.now();
    let flushing: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const next = pending;
      pending = undefined;
      if (!next || signal.aborted) return;
      lastWrite = Date.now();
      flushing = flushing
        .then(() => recordProgress(db(), task.id, id, next.percent, next.step))
        .then((event) => (event ? publishEvent({ id: task.id, lastSequence: event.sequence, event }) : undefined))
        .catch((err) => taskLog.warn({ err }, 'progress not recorded'));
    };
    const reportProgress = (percent: number, step: string) => {
      pending = { percent: Math.max(0, Math.min(99, Math.round(percent))), step };
      const wait = lastWrite + PROGRESS_INTERVAL_MS - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    };
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    aborted.catch(() => {});

    let finished: TaskRow | undefined;
    // Unless the attempt ends in a terminal status (`finished`): no longer this worker's.
    let outcome: AttemptOutcome = 'lease_lost';
    const startedAt = performance.now();
    try {
      const payload = definition.parsePayload(task.payload);
      const result = await Promise.race([definition.run(payload, { task, logger: taskLog, signal, reportProgress, pubsub: options.pubsub }), aborted]);
      clearTimeout(timer);
      await flushing;
      if (signal.aborted) throw signal.reason;
      finished = await finishTask({ taskId: task.id, status: 'COMPLETED', result: result ?? null, message: 'completed' });
    } catch (error) {
      clearTimeout(timer);
      await flushing;
      const message = error instanceof Error ? error.message : String(error);
      switch (entry.reason) {
        case 'cancelled':
          finished = await finishTask({ taskId: task.id, status: 'CANCELLED', error: 'cancelled while running', message: 'cancelled while running' });
          break;
        case 'timeout':
          finished = await finishTask({
            taskId: task.id,
            status: 'TIMEOUT',
            error: `timed out after ${task.timeoutSeconds} s`,
            message: `timed out after ${task.timeoutSeconds} s`,
          });
          break;
        case 'lease-lost':
          taskLog.warn('lease lost: another worker owns the task now; dropping this attempt');
          break;
        case 'shutdown':
          if (await handBackTask(db(), task.id, id)) {
            outcome = 'handed_back';
            const row = await db().task.findUnique({ where: { id: task.id }, select: { id: true, lastSequence: true } });
            if (row) await publishEvent(row);
          }
          break;
        default:
          if (error instanceof NonRetryableError) {
            finished = await finishTask({ taskId: task.id, status: 'FAILED', error: message, message: `failed: ${message}` });
          } else {
            taskLog.warn({ err: error }, 'attempt failed');
            const row = await scheduleRetryOrDeadLetter(db(), task.id, id, message, options.backoffBaseMs, options.backoffMaxMs);
            if (row && isTerminal(row.status)) finished = row;
            else if (row) {
              outcome = 'retry';
              await publishEvent(row);
            }
          }
      }
    } finally {
      clearTimeout(timeout);
    }
    if (finished) outcome = finished.status.toLowerCase() as AttemptOutcome;
    options.metrics?.attemptEnded(task.type, outcome, (performance.now() - startedAt) / 1000);
    if (finished) {
      await publishEvent(finished);
      taskLog.info({ status: finished.status }, 'task finished');
      await options.onFinished?.(finished).catch((err) => taskLog.error({ err }, 'after-finish hook failed'));
    }
  }

  function start(task: TaskRow) {
    const entry = { task, controller: new AbortController() } as Running;
    running.set(task.id, entry);
    void publishEvent(task);
    entry.done = execute(task, entry)
      .catch((err) => log.error({ err, taskId: task.id }, 'task bookkeeping failed; the lease will expire and the task be retried'))
      .finally(() => {
        running.delete(task.id);
        void fill();
      });
  }

  /** Claims until every slot is busy or the queue is empty; one fill at a time. */
  function fill(): Promise<void> {
    if (filling) {
      fillAgain = true;
      return filling;
    }
    filling = (async () => {
      do {
        fillAgain = false;
        for (let free = freeSlots(); free > 0; free = freeSlots()) {
          const { claimed: tasks } = await claim(free, async () => ({ claimed: await claimTasks(db(), id, types, options.leaseMs, free) }));
          if (tasks.length < free) break;
        }
      } while (fillAgain && !stopping);
    })()
      .catch((err) => log.warn({ err: (err as Error).message }, 'claim failed; retrying on the next poll'))
      .finally(() => {
        filling = undefined;
      });
    return filling;
  }

  async function heartbeat() {
    await db().worker.upsert({ where: { id }, create: registration, update: { lastHeartbeatAt: new Date() } });
    if (running.size === 0) return;
    // Only tasks started before the renewal are judged: one claimed while it ran is missing
    // from its answer without having lost anything (that dropped good attempts).
    const before = [...running.keys()];
    const held = await renewLeases(db(), id, options.leaseMs);
    const heldIds = new Set(held.map((row) => row.id));
    for (const row of held) if (row.cancellationRequested) stopTask(row.id, 'cancelled');
    for (const taskId of before) if (running.has(taskId) && !heldIds.has(taskId)) stopTask(taskId, 'lease-lost');
  }

  async function poll() {
    const reclaimed = await reclaimExpiredLeases(db());
    for (const task of reclaimed) {
      log.warn({ taskId: task.id, status: task.status }, 'reclaimed a task whose lease expired');
      const row = await db().task.findUnique({ where: { id: task.id }, select: { id: true, lastSequence: true } });
      if (row) await publishEvent(row);
    }
    await fill();
  }

  const maintenanceTimer = setInterval(
    () => void options.maintenance?.().catch((err) => log.warn({ err: (err as Error).message }, 'maintenance failed')),
    60_000,
  );
  maintenanceTimer.unref();
  const heartbeatTimer = setInterval(() => void heartbeat().catch((err) => log.warn({ err: (err as Error).message }, 'heartbeat failed')), options.heartbeatMs);
  const pollTimer = setInterval(() => void poll().catch((err) => log.warn({ err: (err as Error).message }, 'poll failed')), options.pollMs);

  // Redis pushes: run sooner than the poll would.
  const wakeUps = options.pubsub.subscribe('taskReady', 'queue');
  const cancels = options.pubsub.subscribe('taskCancel', 'workers');
  void (async () => {
    for await (const _ of wakeUps) void fill();
  })().catch(() => {});
  void (async () => {
    for await (const { taskId } of cancels) stopTask(taskId, 'cancelled');
  })().catch(() => {});

  log.info({ concurrency: options.concurrency, types }, 'worker started');
  void poll();

  return {
    id,
    async stop(graceMs = 5_000) {
      stopping = true;
      clearInterval(pollTimer);
      clearInterval(maintenanceTimer);
      await wakeUps.return?.();
      await cancels.return?.();
      await filling;
      await Promise.allSettled([...claimsInFlight]);
      const all = () => Promise.all([...running.values()].map((entry) => entry.done));
      const graceTimer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([all(), graceTimer]);
      for (const taskId of running.keys()) stopTask(taskId, 'shutdown');
      await all();
      clearInterval(heartbeatTimer);
      await db()
        .worker.deleteMany({ where: { id } })
        .catch((err) => log.warn({ err: (err as Error).message }, 'could not remove the worker row'));
      log.info('worker stopped');
    },
  };
}
