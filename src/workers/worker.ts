// A worker: claims tasks from PostgreSQL (the queue), runs up to `concurrency` at once under
// renewed leases, and records every outcome with its event. Redis only speeds things up
// (wake-ups, cancel pushes); without it the poll does the same work. The parts: the claimer
// fills slots, the attempt runner runs and records attempts, the lease keeper renews and
// reclaims leases; this file starts them, keeps their timers and stops them.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TaskEngineConfig } from '../platform/config.js';
import { db } from '../platform/db.js';
import { logger, type Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { AttemptRunner } from './attempt-runner.js';
import { Claimer } from './claimer.js';
import { finishHookOf } from './finish-hook.js';
import { heartbeat, reclaimExpired, type WorkerRegistration } from './lease-keeper.js';
import type { WorkerMetrics } from './metrics.js';
import type { TaskRow } from '../queue/task-row.js';
import { RunningTasks } from './running-tasks.js';
import type { TaskRegistry } from './task-registry.js';

export interface WorkerOptions extends TaskEngineConfig {
  pubsub: PubSub;
  registry: TaskRegistry;
  /** Called with every task that reached a terminal status (the type's step, webhooks). */
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

const MAINTENANCE_INTERVAL_MS = 60_000;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ module: 'worker', workerId: id });
  const types = [...options.registry.keys()];
  const registration: WorkerRegistration = {
    id,
    hostname: hostname(),
    pid: process.pid,
    concurrency: options.concurrency,
  };
  const running = new RunningTasks();
  options.metrics?.observeSlots(() => running.size, options.concurrency);
  await db().worker.create({ data: registration });

  const claimer: Claimer = new Claimer({
    workerId: id,
    types,
    leaseMs: options.leaseMs,
    concurrency: options.concurrency,
    running,
    log,
    start: (task) => runner.start(task),
    finishHook: finishHookOf(options.registry, options.pubsub),
  });
  const runner = new AttemptRunner({
    ...options,
    workerId: id,
    running,
    log,
    backoff: { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs },
    finish: claimer.finish,
    slotFreed: () => void claimer.fill(),
  });
  const timers = startTimers(options, log, {
    heartbeat: () => heartbeat(registration, options.leaseMs, running),
    poll: async () => {
      await reclaimExpired(options.pubsub, log);
      await claimer.fill();
    },
  });
  const signals = followSignals(options.pubsub, claimer, running);
  log.info({ concurrency: options.concurrency, types }, 'worker started');
  timers.poll();
  const started = { id, log, timers, signals, claimer, running };
  return { id, stop: (graceMs = 5_000) => stopWorker(started, graceMs) };
}

interface StartedWorker {
  id: string;
  log: Logger;
  timers: ReturnType<typeof startTimers>;
  signals: ReturnType<typeof followSignals>;
  claimer: Claimer;
  running: RunningTasks;
}

/** Stops claiming, lets running tasks finish until `graceMs`, hands back the rest. */
async function stopWorker(worker: StartedWorker, graceMs: number): Promise<void> {
  const { id, log, timers, signals, claimer, running } = worker;
  timers.stopClaiming();
  await signals.stop();
  await claimer.stop();
  await Promise.race([
    running.allDone(),
    new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
  ]);
  running.stopAll('shutdown');
  await running.allDone();
  timers.stopHeartbeat();
  await db()
    .worker.deleteMany({ where: { id } })
    .catch((err) => log.warn({ err: (err as Error).message }, 'could not remove the worker row'));
  log.info('worker stopped');
}

interface Periodic {
  heartbeat(): Promise<void>;
  poll(): Promise<void>;
}

/** Heartbeat, poll and maintenance timers; a failed round is logged and the next one tries again. */
function startTimers(options: WorkerOptions, log: Logger, work: Periodic) {
  // Timer callbacks: each round runs on its own, its failure logged, nothing awaits it.
  const guarded = (name: string, run: () => Promise<void>) => () =>
    void run().catch((err) => log.warn({ err: (err as Error).message }, `${name} failed`));
  const poll = guarded('poll', work.poll);
  const maintenance = setInterval(
    guarded('maintenance', () => options.maintenance?.() ?? Promise.resolve()),
    MAINTENANCE_INTERVAL_MS,
  );
  maintenance.unref();
  const beat = setInterval(guarded('heartbeat', work.heartbeat), options.heartbeatMs);
  const polling = setInterval(poll, options.pollMs);
  return {
    poll,
    stopClaiming() {
      clearInterval(polling);
      clearInterval(maintenance);
    },
    /** Last: leases stay renewed while running tasks finish or are handed back. */
    stopHeartbeat() {
      clearInterval(beat);
    },
  };
}

/** Redis pushes: claim sooner than the poll would, and stop cancelled attempts at once. */
function followSignals(pubsub: PubSub, claimer: Claimer, running: RunningTasks) {
  const wakeUps = pubsub.subscribe('taskReady', 'queue');
  const cancels = pubsub.subscribe('taskCancel', 'workers');
  void (async () => {
    for await (const _ of wakeUps) void claimer.fill();
  })().catch(() => {});
  void (async () => {
    for await (const { taskId } of cancels) running.stop(taskId, 'cancelled');
  })().catch(() => {});
  return {
    async stop() {
      await wakeUps.return?.();
      await cancels.return?.();
    },
  };
}
