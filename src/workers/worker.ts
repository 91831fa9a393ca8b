// A worker: claims tasks from PostgreSQL (the queue) in batches into a local queue, runs up to
// `concurrency` at once under renewed leases, and records their starts, progress and ends in
// batched turns, each change with its event. Redis only speeds things up (wake-ups, cancel
// pushes); without it the poll does the same work. The parts: the turns write and claim, the
// local queue holds what was claimed, the attempt runner runs attempts, the lease keeper
// renews and reclaims leases; this file starts them, keeps their timers and stops them.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TaskEngineConfig } from '../platform/config.js';
import { db } from '../platform/db.js';
import { logger, type Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { markWorkerStopped } from '../queue/mark-worker-stopped.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import { AttemptRunner } from './attempt-runner.js';
import { ClaimCounts } from './claim-counts.js';
import { finishHookOf } from './finish-hook.js';
import {
  heartbeat,
  reclaimExpired,
  type HeldTasks,
  type WorkerRegistration,
} from './lease-keeper.js';
import { LocalQueue } from './local-queue.js';
import type { WorkerMetrics } from './metrics.js';
import { concernsRun, PushedCancellations } from './pushed-cancellations.js';
import { RunningTasks } from './running-tasks.js';
import type { TaskRegistry } from './task-registry.js';
import { Turns } from './turns.js';

export interface WorkerOptions extends TaskEngineConfig {
  pubsub: PubSub;
  registry: TaskRegistry;
  /** Called with every task that reached a terminal status (the type's step, webhooks). */
  onFinished?: (task: ClaimedTaskRow) => Promise<void>;
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
/**
 * How long a cancellation pushed for a task this worker does not hold is kept: a claim's
 * tasks (a commit's continuations) reach the local queue once its statement is back, and
 * the push of a cancellation that committed right after it may come first.
 */
const CANCELLED_UNHELD_MS = 10_000;

interface Engine {
  id: string;
  log: Logger;
  queue: LocalQueue;
  running: RunningTasks;
  turns: Turns;
  runner: AttemptRunner;
  claimCounts: ClaimCounts;
  /**
   * Each task waiting in the local queue (Date.now() values): `claimedAt`, when its claim came
   * back, for its wait here; `leaseFrom`, when its lease last began: when the claim or the
   * heartbeat renewal that set it was sent, so at or before PostgreSQL's now() in that statement.
   */
  waitingTimes: Map<string, { claimedAt: number; leaseFrom: number }>;
  /** Cancellations pushed for tasks this worker did not hold (yet): see PushedCancellations. */
  cancelledUnheld: PushedCancellations;
  /** How long a waiting task's lease is taken as good after its claim or its last renewal. */
  leaseTrustMs: number;
  /** A heartbeat now (none if one is under way): set once the worker is registered. */
  renewLeasesNow: () => void;
  stopping: boolean;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ module: 'worker', workerId: id });
  const registration: WorkerRegistration = {
    id,
    hostname: hostname(),
    pid: process.pid,
    concurrency: options.concurrency,
  };
  const engine = makeEngine(id, log, options);
  options.metrics?.observeSlots(() => engine.running.size, options.concurrency);
  await db().worker.create({ data: registration });
  let beating: Promise<void> | undefined;
  const beat = () =>
    (beating ??= (async () => {
      try {
        await heartbeat(registration, options.leaseMs, heldTasks(engine), {
          busySlots: engine.running.size,
          claims: engine.claimCounts,
        });
      } finally {
        beating = undefined;
      }
      // What waited while its lease was in doubt starts now, if it is still this worker's. One
      // still in doubt (its row was locked: not renewed) waits for the next beat, not another now.
      dispatch(engine, options.concurrency, false, false);
    })());
  engine.renewLeasesNow = () =>
    void beat().catch((err) => log.warn({ err: (err as Error).message }, 'heartbeat failed'));
  const timers = startTimers(options, log, {
    heartbeat: beat,
    poll: async () => {
      await reclaimExpired(options.pubsub, log, options.maxLeaseLosses);
      engine.turns.claim();
    },
  });
  const signals = followSignals(options.pubsub, engine);
  log.info(
    {
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      types: [...options.registry.keys()],
    },
    'worker started',
  );
  timers.poll();
  return {
    id,
    stop: (graceMs = 5_000) => stopWorker(engine, registration, timers, signals, graceMs),
  };
}

function makeEngine(id: string, log: Logger, options: WorkerOptions): Engine {
  const queue = new LocalQueue();
  const running = new RunningTasks();
  const waitingTimes = new Map<string, { claimedAt: number; leaseFrom: number }>();
  const cancelledUnheld = new PushedCancellations(CANCELLED_UNHELD_MS);
  const claimCounts = new ClaimCounts([...options.registry.keys()], log, options.metrics);
  const engine = {
    ...{ id, log, queue, running, waitingTimes, cancelledUnheld, claimCounts },
    // A lease less one heartbeat (at most a third of it: operations.md): a beat late by most of one.
    leaseTrustMs: options.leaseMs - Math.min(options.heartbeatMs, options.leaseMs / 3),
    renewLeasesNow: () => undefined,
    stopping: false,
  } as Engine;
  engine.turns = new Turns({
    workerId: id,
    types: [...options.registry.keys()],
    leaseMs: options.leaseMs,
    backoff: {
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      maxLeaseLosses: options.maxLeaseLosses,
      maxPostponements: options.maxPostponements,
    },
    concurrency: options.concurrency,
    batchSize: options.batchSize,
    endHoldMs: options.endHoldMs,
    pubsub: options.pubsub,
    log,
    hook: finishHookOf(options.registry, options.pubsub),
    load: () => ({ running: running.size, waiting: queue.size }),
    claimReturned: (claim) => claimCounts.returned(claim),
    claimed(tasks, sentAt) {
      const now = Date.now();
      // A claim brings only runnable rows: a task still running here lost its lease (this
      // worker froze past it, another reclaimed it) before the heartbeat found out. That
      // attempt stops now and is let go, its unwritten start and progress with it, or both
      // would run under one id and the earlier one's writes would land on the later one's.
      // (A task ends here before its retry is written: it no longer runs by then.)
      for (const task of tasks) {
        const superseded = running.supersede(task.id);
        if (superseded) engine.turns.forget(task.id, superseded.task.attempts);
      }
      // A cancellation pushed while its claim was on its way ends it now, not when a slot
      // frees (a long wait when every slot is busy) or the next heartbeat reads the flag.
      const kept = tasks.filter((task) => {
        if (!cancelledUnheld.take(task.id, task.lastSequence)) return true;
        engine.runner.cancelWaiting(task);
        return false;
      });
      for (const task of kept) waitingTimes.set(task.id, { claimedAt: now, leaseFrom: sentAt });
      queue.add(kept);
      dispatch(engine, options.concurrency, true);
    },
  });
  engine.runner = new AttemptRunner({
    ...options,
    workerId: id,
    running,
    turns: engine.turns,
    log,
    backoff: {
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      maxLeaseLosses: options.maxLeaseLosses,
      maxPostponements: options.maxPostponements,
    },
    slotFreed() {
      dispatch(engine, options.concurrency, false);
      engine.turns.refill();
    },
  });
  return engine;
}

/**
 * Starts waiting tasks in free slots. `fromClaim`: a claim just brought them; those its
 * statement started (their startedAt set, for free slots) are recorded. A task started later
 * (it waited here) is not: its start is written when it really began. `renewInDoubt`: a lease
 * in doubt asks for a heartbeat at once (not right after one: the next one comes in its time).
 */
function dispatch(
  engine: Engine,
  concurrency: number,
  fromClaim: boolean,
  renewInDoubt = true,
): void {
  const { queue, running, runner, waitingTimes } = engine;
  while (!engine.stopping && running.size < concurrency) {
    const next = queue.peek();
    if (!next) break;
    // Not renewed for most of a lease (the worker froze, or was cut off): another worker may
    // have taken it back meanwhile. The leases are renewed first, and what is still this
    // worker's starts then (the heartbeat takes out what it lost).
    if (Date.now() - (waitingTimes.get(next.id)?.leaseFrom ?? 0) > engine.leaseTrustMs) {
      if (renewInDoubt) engine.renewLeasesNow();
      break;
    }
    const task = queue.take()!;
    // A start its claim recorded began on the claim's clock (its queue wait is already the
    // row's); one that waited here adds the time since its claim came back.
    const recorded = fromClaim && task.startedAt !== null;
    const claimedAt = waitingTimes.get(task.id)?.claimedAt ?? Date.now();
    const waited = recorded ? 0 : (Date.now() - claimedAt) / 1000;
    waitingTimes.delete(task.id);
    if (engine.cancelledUnheld.take(task.id, task.lastSequence)) {
      runner.cancelWaiting(task);
      continue;
    }
    runner.start(task, recorded, waited);
  }
}

/** The heartbeat's view: running tasks and waiting ones alike. */
function heldTasks(engine: Engine): HeldTasks {
  const { queue, running, runner, turns } = engine;
  const dropWaiting = (taskId: string) => {
    const waiting = queue.remove(taskId);
    engine.waitingTimes.delete(taskId);
    return waiting;
  };
  return {
    // With the tasks whose end is being written: their leases hold until it is.
    // Not those whose rows are not written yet: no lease of theirs to renew (task-row.ts).
    ids: () =>
      [...running.ids(), ...queue.taskIds(), ...turns.endingTaskIds()].filter(
        (taskId) => !turns.unwritten.has(taskId),
      ),
    // The claimed row: the same object waiting and running, a new one for each claim.
    heldAs: (taskId) => running.get(taskId)?.task ?? queue.get(taskId),
    cancel(tasks) {
      const concerned = tasks.filter(({ taskId, sequence }) => {
        const heldRow = running.get(taskId)?.task ?? queue.get(taskId);
        // A push about an earlier run (the task ended and was retried since, then claimed here).
        return !heldRow || concernsRun(sequence, heldRow.lastSequence);
      });
      // Those waiting or not here yet first: a slot that a running one's stop frees must not
      // start one of them.
      for (const { taskId, sequence } of concerned) {
        if (running.has(taskId)) continue;
        const waiting = dropWaiting(taskId);
        if (waiting) runner.cancelWaiting(waiting);
        // Not here yet: its claim may still be on its way back (the push came first).
        else engine.cancelledUnheld.add(taskId, sequence);
      }
      for (const { taskId } of concerned)
        if (running.has(taskId)) running.stop(taskId, 'cancelled');
    },
    lost(taskId) {
      if (running.has(taskId)) return running.stop(taskId, 'lease-lost');
      const waiting = dropWaiting(taskId);
      if (waiting) turns.forget(taskId, waiting.attempts);
    },
    renewed(taskId, sentAt) {
      const held = engine.waitingTimes.get(taskId);
      if (held) held.leaseFrom = Math.max(held.leaseFrom, sentAt);
    },
  };
}

/**
 * Stops claiming, hands back what waits in the local queue, lets running tasks finish until
 * `graceMs`, hands back the rest, and writes what is left.
 */
async function stopWorker(
  engine: Engine,
  registration: WorkerRegistration,
  timers: ReturnType<typeof startTimers>,
  signals: ReturnType<typeof followSignals>,
  graceMs: number,
): Promise<void> {
  const { id, log, queue, running, turns, runner } = engine;
  timers.stopClaiming();
  // Pushed cancellations are still heard while running tasks finish: one asked for in the
  // grace period stops its run now, not at the next heartbeat's poll.
  await signals.stopWakeUps();
  engine.stopping = true;
  turns.noMoreClaims();
  await turns.idle();
  await runner
    .handBackWaiting(queue.drain())
    .catch((err) => log.warn({ err: (err as Error).message }, 'could not hand back waiting tasks'));
  await Promise.race([
    running.allDone(),
    new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
  ]);
  running.stopAll('shutdown');
  await running.allDone();
  await signals.stopCancels();
  await runner.settled();
  await turns.stop();
  timers.stopHeartbeat();
  // Its last claim counts with the mark: listed as stopped until the clean-up prunes it.
  await heartbeat(
    registration,
    0,
    { ...heldTasks(engine), ids: () => [] },
    {
      busySlots: 0,
      claims: engine.claimCounts,
    },
  )
    .then(() => markWorkerStopped(db(), id))
    .catch((err) => log.warn({ err: (err as Error).message }, 'could not mark the worker stopped'));
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
function followSignals(pubsub: PubSub, engine: Engine) {
  const wakeUps = pubsub.subscribe('taskReady', 'queue');
  const cancels = pubsub.subscribe('taskCancel', 'workers');
  const held = heldTasks(engine);
  void (async () => {
    for await (const _ of wakeUps) engine.turns.claim();
  })().catch(() => {});
  void (async () => {
    for await (const pushed of cancels) held.cancel('tasks' in pushed ? pushed.tasks : [pushed]);
  })().catch(() => {});
  return {
    async stopWakeUps() {
      await wakeUps.return?.();
    },
    async stopCancels() {
      await cancels.return?.();
    },
  };
}
