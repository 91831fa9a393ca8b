// One attempt of a claimed task: runs its handler under the task's timeout and the worker's
// AbortSignal, hands its end to the worker's turns (batched with the other attempts' changes,
// its event announced once written), and runs the after-finish step of a task that reached a
// terminal status. The slot is free as soon as the handler is done; the write follows.
import { db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { noteTaskOutcome, taskAttemptSpan, tracingEnabled } from '../platform/tracing.js';
import { handBackTasks, type HandedBackTask } from '../queue/hand-back-tasks.js';
import { announceTaskEvent } from '../queue/signals.js';
import { parsePayload, type TaskHelpers } from '../queue/task-definition.js';
import { isTerminal, type ClaimedTaskRow } from '../queue/task-row.js';
import type { Backoff } from '../queue/write-changes.js';
import { endChangeOf } from './attempt-end.js';
import type { AttemptOutcome, WorkerMetrics } from './metrics.js';
import { ProgressReporter } from './progress-reporter.js';
import type { RunningTask, RunningTasks } from './running-tasks.js';
import type { TaskRegistry } from './task-registry.js';
import type { Turns } from './turns.js';

/** How long a stopped handler (cancelled, timed out, lease lost, shut down) may wind down. */
const STOPPED_HANDLER_GRACE_MS = 500;

export interface AttemptRunnerOptions {
  workerId: string;
  pubsub: PubSub;
  registry: TaskRegistry;
  running: RunningTasks;
  turns: Turns;
  backoff: Backoff;
  /** Called with every task that reached a terminal status. */
  onFinished?(task: ClaimedTaskRow): Promise<void>;
  /** A slot is free again. */
  slotFreed(): void;
  metrics?: WorkerMetrics;
  log: Logger;
}

export class AttemptRunner {
  /** Attempts whose end is being written or followed up (a shutdown waits for them). */
  private unsettled = 0;
  private whenSettled: Array<() => void> = [];
  /** Made once: an attempt's promise settles into it (no closure per attempt). */
  private readonly settledOne = () => {
    if (--this.unsettled === 0) for (const done of this.whenSettled.splice(0)) done();
  };

  constructor(private readonly options: AttemptRunnerOptions) {}

  /**
   * Starts a claimed task. `claimedToStart`: its claim set its startedAt (claimed for a free
   * slot); `waitedLocally`: seconds it waited in the local queue since its claim.
   */
  start(task: ClaimedTaskRow, claimedToStart: boolean, waitedLocally: number): void {
    const { running, turns, metrics } = this.options;
    const entry = running.add(task);
    turns.started(task.id, task.attempts, claimedToStart);
    if (task.queueWaitSeconds != null)
      metrics?.attemptStarted(task.type, task.priority, task.queueWaitSeconds + waitedLocally);
    // The attempt's span (a child of the request that enqueued it), when tracing is on.
    this.track(
      tracingEnabled() ? taskAttemptSpan(task, () => this.execute(entry)) : this.execute(entry),
    );
  }

  /** A task cancelled while it waited in the local queue: it ends CANCELLED without running. */
  cancelWaiting(task: ClaimedTaskRow): void {
    const message = 'cancelled before it ran';
    const change = {
      kind: 'CANCELLED' as const,
      taskId: task.id,
      attempt: task.attempts,
      error: message,
      message,
    };
    this.track(
      this.options.turns
        .end(change, task)
        .then((row) => row && this.afterFinish(row, new AttemptLogger(this.options.log, task)))
        .catch((err) => this.options.log.warn({ err, taskId: task.id }, 'cancel not recorded')),
    );
  }

  /** Settles once every attempt started so far is recorded and followed up. */
  async settled(): Promise<void> {
    if (this.unsettled === 0) return;
    await new Promise<void>((resolve) => this.whenSettled.push(resolve));
  }

  /** `work` never rejects (execute and cancelWaiting catch their own). */
  private track(work: Promise<unknown>): void {
    this.unsettled++;
    void work.then(this.settledOne);
  }

  private async execute(entry: RunningTask): Promise<void> {
    const { task } = entry;
    const { metrics } = this.options;
    const log = new AttemptLogger(this.options.log, task);
    try {
      const timeout = setTimeout(stopForTimeout, task.timeoutSeconds * 1000, entry);
      const startedAt = performance.now();
      let outcome: AttemptOutcome;
      let finished: ClaimedTaskRow | undefined;
      try {
        const error = await this.runHandler(entry, log);
        this.options.turns.ran(performance.now() - startedAt);
        ({ outcome, finished } = await this.record(entry, error, log));
      } finally {
        clearTimeout(timeout);
      }
      metrics?.attemptEnded(task.type, outcome, (performance.now() - startedAt) / 1000);
      if (tracingEnabled()) noteTaskOutcome(outcome);
      if (finished) await this.afterFinish(finished, log);
    } catch (err) {
      this.options.log.error(
        { err, taskId: task.id },
        'task bookkeeping failed; the lease will expire and the task be retried',
      );
    }
  }

  /** Runs the handler; its error (none: it completed, its result kept on the entry). */
  private async runHandler(entry: RunningTask, log: AttemptLogger): Promise<unknown> {
    const { task } = entry;
    const helpers = new AttemptHelpers(entry, this.options, log);
    let handler: Promise<unknown> | undefined;
    try {
      const definition = this.options.registry.get(task.type)!;
      const payload = parsePayload(definition, task.payload);
      handler = definition.run(payload, helpers);
      entry.result = await entry.race(handler);
      if (entry.stopping) throw new Error(entry.reason);
      return undefined;
    } catch (error) {
      // A stopped handler winds down before its end is recorded (an aborted LLM call's cost
      // is written in its clean-up, and a step's end reads it), for a moment at most.
      if (entry.stopping && handler) await settledWithin(handler, STOPPED_HANDLER_GRACE_MS);
      return error ?? new Error('the handler threw nothing');
    } finally {
      helpers.settle();
      // The slot is free now; the end's write and follow-up run beside the next attempt.
      this.options.running.delete(entry);
      this.options.slotFreed();
    }
  }

  /** Writes how the attempt ended; what became of it. */
  private async record(
    entry: RunningTask,
    error: unknown,
    log: AttemptLogger,
  ): Promise<{ outcome: AttemptOutcome; finished?: ClaimedTaskRow }> {
    const { task } = entry;
    const { turns } = this.options;
    // Superseded (claimed again here): its state went when the claim came; a later attempt
    // may have the same number, so nothing of it is touched now.
    if (entry.reason === 'lease-lost' || entry.superseded) {
      log.get().warn('lease lost: the task was taken back; dropping this attempt');
      if (!entry.superseded) turns.forget(task.id, task.attempts);
      return { outcome: 'lease_lost' };
    }
    if (entry.reason === 'shutdown') return this.handBack(task);
    const spec = this.options.registry.get(task.type)?.spec;
    const change = endChangeOf(entry, error, spec?.retryDelaysMs);
    if (change.kind === 'RETRY') log.get().warn({ err: error }, 'attempt failed');
    const row = await turns.end(change, task);
    if (!row) return { outcome: 'lease_lost' };
    if (!isTerminal(row.status)) return { outcome: 'retry' };
    return { outcome: row.status.toLowerCase() as AttemptOutcome, finished: row };
  }

  /**
   * Back to PENDING for another worker; the attempt does not count. One whose cancellation was
   * asked for ends CANCELLED instead (hand-back-tasks.ts), and is followed up as any end.
   */
  private async handBack(
    task: ClaimedTaskRow,
  ): Promise<{ outcome: AttemptOutcome; finished?: ClaimedTaskRow }> {
    const { turns, workerId, pubsub } = this.options;
    await turns.idle();
    await turns.writeUnwritten([task]);
    const recorded = turns.isRecorded(task.id, task.attempts);
    turns.forget(task.id, task.attempts);
    const [row] = await handBackTasks(db(), workerId, [
      { taskId: task.id, attempt: task.attempts, recorded },
    ]);
    if (!row) return { outcome: 'lease_lost' };
    if (row.announced) await announceTaskEvent(pubsub, row);
    if (row.status !== 'CANCELLED') return { outcome: 'handed_back' };
    return { outcome: 'cancelled', finished: handedBackCancelled(task, row) };
  }

  /**
   * Hands back tasks that waited in the local queue (a shutdown); those whose cancellation was
   * asked for end CANCELLED there, and are announced and followed up as any end.
   */
  async handBackWaiting(tasks: readonly ClaimedTaskRow[]): Promise<void> {
    const { workerId, pubsub, log, turns } = this.options;
    await turns.writeUnwritten(tasks);
    const back = tasks.map((task) => ({
      taskId: task.id,
      attempt: task.attempts,
      recorded: false,
    }));
    const rows = await handBackTasks(db(), workerId, back);
    const byId = new Map(tasks.map((task) => [task.id, task]));
    for (const row of rows) {
      if (row.status !== 'CANCELLED') continue;
      const task = handedBackCancelled(byId.get(row.id)!, row);
      this.track(
        announceTaskEvent(pubsub, row)
          .then(() => this.afterFinish(task, new AttemptLogger(log, task)))
          .catch((err) => log.warn({ err, taskId: task.id }, 'cancel not followed up')),
      );
    }
  }

  private async afterFinish(finished: ClaimedTaskRow, log: AttemptLogger): Promise<void> {
    // Checked first: the attempt's child logger is made when first used, and pino's child()
    // serializes its bindings (about 1 KB of garbage per task, for a line rarely written).
    if (this.options.log.isLevelEnabled('debug'))
      log.get().debug({ status: finished.status }, 'task finished');
    const { onFinished } = this.options;
    if (onFinished)
      await onFinished(finished).catch((err) =>
        log.get().error({ err }, 'after-finish hook failed'),
      );
  }
}

const stopForTimeout = (entry: RunningTask) => entry.stop('timeout');

/** The claimed row of a task handed back CANCELLED, as it ended (for its after-finish step). */
function handedBackCancelled(task: ClaimedTaskRow, row: HandedBackTask): ClaimedTaskRow {
  const { status, error, currentStep, completedAt, lastSequence } = row;
  return { ...task, status, error, currentStep, completedAt, lastSequence };
}

/** The attempt's logger, made when first used (most attempts never log). */
class AttemptLogger {
  private child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly task: ClaimedTaskRow,
  ) {}

  get(): Logger {
    const { task } = this;
    return (this.child ??= this.parent.child({
      taskId: task.id,
      type: task.type,
      attempt: task.attempts,
    }));
  }
}

/** What a handler is given: its parts made when first read (most handlers read few). */
class AttemptHelpers implements TaskHelpers {
  private progress: ProgressReporter | undefined;
  private report: TaskHelpers['reportProgress'] | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly entry: RunningTask,
    private readonly options: Pick<AttemptRunnerOptions, 'pubsub' | 'turns' | 'workerId'>,
    private readonly log: AttemptLogger,
  ) {}

  get task(): ClaimedTaskRow {
    return this.entry.task;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  get logger(): Logger {
    return this.log.get();
  }

  get signal(): AbortSignal {
    return this.entry.signal;
  }

  get pubsub(): PubSub {
    return this.options.pubsub;
  }

  /** A function of its own: handlers take it out of the helpers. */
  get reportProgress(): TaskHelpers['reportProgress'] {
    return (this.report ??= (percent, step) => {
      const { entry, options } = this;
      this.progress ??= new ProgressReporter(
        entry.task.id,
        entry.task.attempts,
        entry,
        options.turns,
        this.startedAt,
      );
      this.progress.report(percent, step);
    });
  }

  /** Drops a report not handed on yet (the attempt ended). */
  settle(): void {
    this.progress?.settle();
  }
}

/** Settles when `work` does or after `ms`, whichever comes first; never rejects. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work.then(noop, noop), late]);
  clearTimeout(timer);
}

const noop = () => {};
