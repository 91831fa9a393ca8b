// A worker's writes, batched into turns: every start, progress report and end of its attempts
// waiting to be recorded go to PostgreSQL in one statement (one commit) per turn, as graphile-
// worker batches its completions, beside a claim when its local queue runs low (a statement of its
// own: turn-statements.ts). A turn starts as soon as there is something to write, up to
// MAX_IN_FLIGHT at once (so PostgreSQL writes one turn while this process runs what the last one
// claimed), and one more for a claim when none is under way or the queue ran dry (a wake-up's claim
// does not wait behind two writes, nor behind a claim that will bring little): an idle worker
// writes at once and a busy one writes hundreds of changes at a time. One task's changes are
// written in order (a task with a change in flight waits for it). A start is recorded a moment late
// (START_RECORD_DELAY_MS), so that a task that ends within it writes one event, its end
// (unrecorded-starts.ts). With the queue dry (tasks come one at a time), an end waits a moment
// (endHoldMs, TASK_END_HOLD_MS) for the next claim, a wake-up's or a poll's, and the two are one
// statement and one commit (change-and-claim.ts) where they were two of each. A turn that fails
// (PostgreSQL away) is tried again with backoff, its changes kept: nothing the handlers did is
// dropped; one PostgreSQL refused for its data has its tasks written apart until the change at
// fault is found (refused-changes.ts), so one change cannot hold every other back. Hooked ends
// go in turns by commit key (commit-keys.ts). How far ahead of its slots the local queue claims:
// local-queue-aim.ts.
import { announceTaskEvents } from '../queue/signals.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import { changedTask, type ChangedTask, type TaskChange } from '../queue/write-changes.js';
import { endsHooked } from './finish-hook.js';
import { shareOfKeys } from './commit-keys.js';
import { askedOfQueue, QueueDry, type ClaimStart } from './queue-dry.js';
import { LocalQueueAim } from './local-queue-aim.js';
import { RefusedChanges, refusedForData } from './refused-changes.js';
import { START_RECORD_DELAY_MS, UnrecordedStarts } from './unrecorded-starts.js';
import { firstHeldUntil, onlyHeld, putOff, someNotHeld } from './held-ends.js';
import { UnwrittenTasks } from './unwritten-tasks.js';
import { writeTurn, type Claimed, type TurnWritten } from './turn-statements.js';
import type {
  AttemptEndChange,
  PendingEnd,
  ProgressChange,
  Turn,
  TurnsOptions,
} from './turn-types.js';

const MAX_IN_FLIGHT = 2;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;

export class Turns {
  private readonly ends = new Map<string, PendingEnd>();
  private readonly progress = new Map<string, ProgressChange>();
  private readonly unrecorded = new UnrecordedStarts();
  /** Tasks with a change in a turn under way: their next change waits for it. */
  private readonly inFlightTasks = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Tasks whose changes were in a turn PostgreSQL refused for its data: written apart. */
  private readonly refused = new RefusedChanges();
  private readonly waiting = {
    ends: this.ends,
    progress: this.progress,
    unrecorded: this.unrecorded,
  };
  /** Tasks being claimed, and of them claimed for free slots, by the turns under way. */
  private claiming = { limit: 0, startNow: 0 };
  private wantClaim = false;
  /** Whether the queue ran dry, from the claims' answers and the wake-ups between them. */
  private readonly dry = new QueueDry();
  private stopping = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (epoch ms). */
  private timerDue = 0;
  private failures = 0;
  /**
   * The hooked turns under way: a hooked end whose commit key is one of theirs waits for that
   * turn (both would lock the same rows, one after the other) and goes in a later one.
   */
  private readonly hookedTurns = new Set<Turn>();
  /** Hooked turns failed in a row (any other turn's success does not reset it). */
  private hookedFailures = 0;
  private readonly aim: LocalQueueAim;
  /** Claimed tasks whose rows are not written yet: the heartbeat leaves them out. */
  readonly unwritten = new UnwrittenTasks();
  private readonly writer: TurnsOptions & { unwritten: UnwrittenTasks };

  constructor(private readonly options: TurnsOptions) {
    this.aim = new LocalQueueAim(options);
    this.writer = { ...options, unwritten: this.unwritten };
  }

  /** Writes the rows of those of `tasks` not written yet (before a hand-back). */
  writeUnwritten(tasks: readonly ClaimedTaskRow[]): Promise<void> {
    const { hook, workerId, leaseMs } = this.options;
    return this.unwritten.write(tasks, hook, { workerId, leaseMs });
  }

  /** Records an attempt's end; resolves with the row, or undefined when the worker no longer held it. */
  end(change: AttemptEndChange, task: ClaimedTaskRow): Promise<ChangedTask | undefined> {
    this.dropProgress(change.taskId, change.attempt);
    // An earlier attempt's end still waiting is fenced out by this one's claim: answered now.
    this.ends.get(change.taskId)?.resolve(undefined);
    return new Promise((resolve) => {
      if (this.holdsEnd(task)) {
        const heldUntil = Date.now() + this.options.endHoldMs;
        this.ends.set(change.taskId, { change, task, resolve, heldUntil });
        this.scheduleAt(this.options.endHoldMs);
      } else {
        this.ends.set(change.taskId, { change, task, resolve });
        this.schedule();
      }
    });
  }

  /**
   * Whether an end waits for a claim: the queue ran dry (a wake-up will bring the next task),
   * nothing waits in the local queue, the last turn did not fail, and no hook commits it (a
   * workflow step's end makes its dependents runnable: it does not wait).
   */
  private holdsEnd(task: ClaimedTaskRow): boolean {
    return (
      this.options.endHoldMs > 0 &&
      !this.stopping &&
      this.failures === 0 &&
      this.dry.lastClaimShort &&
      this.options.hook?.keyOf(task) === undefined &&
      this.options.load().waiting === 0
    );
  }

  report(taskId: string, attempt: number, percent: number, step: string | null): void {
    this.progress.set(taskId, { kind: 'PROGRESS', taskId, attempt, percent, step });
    this.schedule();
  }

  /** An attempt started; `recorded`: its claim set its startedAt (claimed for a free slot). */
  started(taskId: string, attempt: number, recorded: boolean): void {
    this.unrecorded.add(taskId, attempt, recorded);
    this.scheduleAt(START_RECORD_DELAY_MS);
  }

  /** A handler ran this long: how far ahead of its slots the local queue claims. */
  ran(ms: number): void {
    this.aim.ran(ms);
  }

  /**
   * The tasks the claims under way may bring. None when the queue ran dry (the last claim found
   * less than it asked for): they bring little, and a wake-up's claim must not wait for them.
   */
  private claimingAhead(): number {
    return this.dry.lastClaimShort ? 0 : this.claiming.limit;
  }

  /** The tasks whose end waits to be written or is being written. */
  endingTaskIds(): string[] {
    return [...this.ends.keys(), ...this.inFlightTasks];
  }

  /** Whether the attempt's start is recorded (a RUNNING event); false until a turn wrote it. */
  isRecorded(taskId: string, attempt: number): boolean {
    return !this.unrecorded.has(taskId, attempt);
  }

  /** The attempt is no longer this worker's (lease lost, handed back): nothing more of it to write. */
  forget(taskId: string, attempt: number): void {
    this.unwritten.forget(taskId, attempt);
    this.unrecorded.delete(taskId, attempt);
    this.dropProgress(taskId, attempt);
  }

  private dropProgress(taskId: string, attempt: number): void {
    if (this.progress.get(taskId)?.attempt === attempt) this.progress.delete(taskId);
  }

  /** Claims in the next turn (a wake-up, a poll): the queue may have work again. */
  claim(): void {
    this.dry.wokeUp();
    this.refill();
  }

  /** A slot freed: claims in the next turn if the local queue runs low and the queue had more. */
  refill(): void {
    if (this.stopping || this.dry.drained || this.dry.claimUnderWayCovers()) return;
    const { waiting } = this.options.load();
    if (waiting + this.claimingAhead() > Math.floor(this.aim.target() / 2)) return;
    this.wantClaim = true;
    this.schedule();
  }

  /** Settles once the turns under way (if any) are done. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Claims no more (a shutdown); the turns go on writing what the attempts hand in. */
  noMoreClaims(): void {
    this.stopping = true;
    this.wantClaim = false;
    // No claim will take the ends that waited for one: written now.
    if (this.ends.size) this.schedule();
  }

  /** Claims no more; settles once every change handed in so far is written (or given up). */
  async stop(): Promise<void> {
    this.noMoreClaims();
    while (this.inFlight.size || this.ends.size || this.progress.size) {
      if (this.inFlight.size === 0) this.schedule();
      await (this.inFlight.size
        ? Promise.allSettled([...this.inFlight])
        : new Promise((resolve) => setImmediate(resolve)));
      if (this.failures > 3) break;
    }
    clearTimeout(this.timer);
  }

  /** A turn in `delayMs`, or sooner if one is due sooner already. */
  private scheduleAt(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, delayMs);
  }

  private schedule(): void {
    // A claim does not wait behind two writes: a turn of its own when none claims or the queue ran dry.
    const room =
      this.wantClaim && (this.claiming.limit === 0 || this.dry.lastClaimShort)
        ? MAX_IN_FLIGHT + 1
        : MAX_IN_FLIGHT;
    if (this.scheduled || this.inFlight.size >= room) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const turn = this.nextTurn();
      if (!turn) return;
      const running: Promise<void> = this.run(turn).finally(() => {
        this.inFlight.delete(running);
        this.afterTurn();
      });
      this.inFlight.add(running);
      // The next batch is claimed beside this turn when this one leaves the local queue low.
      this.refill();
      // Room for another: it takes what comes in while this one is written.
      if (this.inFlight.size < MAX_IN_FLIGHT && this.hasWork()) this.schedule();
    });
  }

  /** Whether a turn has something to write now (not counting ends held for a claim). */
  private hasWork(): boolean {
    if (this.progress.size > 0 || this.wantClaim) return true;
    return someNotHeld(this.ends.values(), Date.now(), this.stopping);
  }

  private afterTurn(): void {
    if (this.failures === 0) this.refill();
    if (this.hasWork()) {
      if (this.failures === 0) return this.schedule();
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
      clearTimeout(this.timer);
      this.timer = undefined;
      return this.scheduleAt(delay);
    }
    const due = this.unrecorded.nextDue(this.inFlightTasks);
    if (due !== undefined) this.scheduleAt(due);
    this.scheduleHeldEnds();
  }

  /** A turn when the first held end's wait is over (unless a claim takes it first). */
  private scheduleHeldEnds(): void {
    const first = firstHeldUntil(this.ends.values());
    if (first !== undefined) this.scheduleAt(Math.max(0, first - Date.now()));
  }

  /** The next turn, out of the waiting changes (undefined: none); tasks set apart first. */
  private nextTurn(): Turn | undefined {
    const group = this.refused.size ? this.refused.nextGroup(this.inFlightTasks) : undefined;
    if (group) {
      const turn = this.turnOf(group);
      if (turn) return turn;
      for (const taskId of group)
        if (!this.ends.has(taskId) && !this.progress.has(taskId) && !this.unrecorded.has(taskId))
          this.refused.forget(taskId);
    }
    return this.turnOf(undefined);
  }

  /** The next turn of the tasks in `group` (no claim), or of every task not set apart. */
  private turnOf(group: ReadonlySet<string> | undefined): Turn | undefined {
    const now = Date.now();
    const ends = new Map<string, PendingEnd>();
    const progress = new Map<string, ProgressChange>();
    const ours = group
      ? (taskId: string) => group.has(taskId)
      : (taskId: string) => !this.refused.has(taskId);
    const keyOf = (task: ClaimedTaskRow) => this.options.hook?.keyOf(task);
    const held = new Set([...this.hookedTurns].flatMap((turn) => [...turn.keys]));
    let putOffUntil: number | undefined;
    for (const [taskId, end] of this.ends) {
      if (!ours(taskId)) continue;
      if (end.putOff && end.putOff.until > now) {
        putOffUntil = Math.min(putOffUntil ?? Infinity, end.putOff.until);
        continue;
      }
      const key = keyOf(end.task);
      if (!this.inFlightTasks.has(taskId) && !(key !== undefined && held.has(key)))
        ends.set(taskId, end);
    }
    if (putOffUntil !== undefined) this.scheduleAt(putOffUntil - now);
    // Shared with the hooked turns that can run beside it (a claim's turn is short).
    const keys = shareOfKeys(ends, keyOf, group ? 1 : MAX_IN_FLIGHT - this.hookedTurns.size);
    for (const [taskId, report] of this.progress)
      if (ours(taskId) && !this.inFlightTasks.has(taskId) && !ends.has(taskId))
        progress.set(taskId, report);
    for (const taskId of ends.keys()) this.ends.delete(taskId);
    for (const taskId of progress.keys()) this.progress.delete(taskId);
    const changes = this.changes(now, ends, progress, ours);
    // A turn that ends hooked tasks (workflow steps) may make new ones: it claims after its
    // hook, in the same transaction, so they start without waiting for a wake-up.
    const hooked = keys.size > 0;
    const { running, waiting } = this.options.load();
    // A hooked turn under way or waiting claims for this worker, the tasks its commit makes
    // runnable first: a claim beside it would fill the local queue with others' and leave
    // those to another worker (whose commits then wait for the same workflows' locks).
    // Not while hooked turns fail: one that keeps failing must not hold every claim.
    const deferred =
      !hooked &&
      this.hookedFailures === 0 &&
      (this.hookedTurns.size > 0 || endsHooked(this.options.hook, this.ends.values()));
    const claim = !group && (this.wantClaim || hooked) && !this.stopping && !deferred;
    if (!deferred && !group) this.wantClaim = false;
    const free = this.options.concurrency - running - this.claiming.startNow;
    const room = Math.max(this.aim.target(), free) - waiting - this.claimingAhead();
    const limit = claim ? Math.min(this.options.batchSize, Math.max(0, room)) : 0;
    // With nothing waiting here, a claim has free slots promised to what it brings (started at
    // once, their start recorded by the claim). With the queue dry, a wake-up's claim goes
    // beside any under way (waiting for it was most of a task's add→start) and promises half
    // the free slots left, so the next one beside it has some.
    const promised = this.dry.lastClaimShort ? Math.ceil(free / 2) : free;
    const startNow = limit > 0 && waiting === 0 ? Math.min(limit, Math.max(0, promised)) : 0;
    if (changes.length === 0 && limit === 0) return undefined;
    if (limit === 0 && !group && onlyHeld(changes, ends, now, this.stopping)) {
      // Nothing but ends waiting for a claim: back in line until one comes or their wait ends.
      for (const [taskId, end] of ends) this.ends.set(taskId, end);
      this.scheduleHeldEnds();
      return undefined;
    }
    for (const change of changes) this.inFlightTasks.add(change.taskId);
    // What a hooked commit makes runnable goes to this worker first, within its room as if no
    // claim were under way: one that is (a poll's, a refill's) would otherwise take the room
    // of the tasks this turn's own ends free, and it brings only what the queue already held.
    const continuations =
      hooked && claim
        ? Math.min(this.options.batchSize, Math.max(0, Math.max(this.aim.target(), free) - waiting))
        : undefined;
    const carried = this.unrecorded.carriedBy(changes);
    const turnClaim = { limit, startNow, continuations };
    return { changes, ends, progress, carried, claim: turnClaim, hooked, keys };
  }

  /** The changes of a turn: its ends and progress, and the starts due (each task once). */
  private changes(
    now: number,
    ends: Map<string, PendingEnd>,
    progress: Map<string, ProgressChange>,
    ours: (taskId: string) => boolean,
  ): TaskChange[] {
    const changes: TaskChange[] = [];
    const since = (taskId: string, attempt: number) =>
      this.unrecorded.startedMsAgo(taskId, attempt, now);
    // On the change itself, not a copy of it (once per task): set again if the turn is retried.
    for (const { change } of ends.values()) {
      change.startedMsAgo = since(change.taskId, change.attempt);
      changes.push(change);
    }
    for (const change of progress.values()) {
      change.startedMsAgo = since(change.taskId, change.attempt);
      changes.push(change);
    }
    const skip = (taskId: string) =>
      ends.has(taskId) ||
      progress.has(taskId) ||
      this.inFlightTasks.has(taskId) ||
      !ours(taskId) ||
      this.ends.has(taskId) ||
      this.progress.has(taskId);
    for (const start of this.unrecorded.due(now, skip)) changes.push(start);
    return changes;
  }

  private async run(turn: Turn): Promise<void> {
    const { claim } = turn;
    if (turn.hooked) this.hookedTurns.add(turn);
    this.claiming = {
      limit: this.claiming.limit + claim.limit,
      startNow: this.claiming.startNow + claim.startNow,
    };
    const started = claim.limit > 0 ? this.dry.claimStarted() : undefined;
    const sentAt = Date.now();
    try {
      const [changes, claimed] = await Promise.allSettled(writeTurn(this.writer, turn));
      if (changes.status === 'fulfilled') {
        putOff(turn, changes.value.deferred, this.ends);
        this.recorded(turn, changes.value);
      }
      if (claimed.status === 'fulfilled') this.claimedBack(turn, claimed.value, sentAt, started);
      else if (started) this.dry.claimFailed(started);
      const rejected = [changes, claimed].find(
        (settled): settled is PromiseRejectedResult => settled.status === 'rejected',
      );
      if (rejected) {
        this.failed(turn, rejected.reason, {
          changes: changes.status === 'rejected',
          claim: claimed.status === 'rejected',
        });
      } else {
        this.failures = 0;
        if (turn.hooked) this.hookedFailures = 0;
      }
    } finally {
      this.hookedTurns.delete(turn);
      this.claiming = {
        limit: this.claiming.limit - claim.limit,
        startNow: this.claiming.startNow - claim.startNow,
      };
      for (const change of turn.changes) this.inFlightTasks.delete(change.taskId);
    }
  }

  /** A claim came back: its tasks to the local queue, and whether the queue ran dry. */
  private claimedBack(turn: Turn, back: Claimed, sentAt: number, started?: ClaimStart) {
    const { claim } = turn;
    const { claimed, continued } = back;
    // What a hooked commit made runnable itself (continued) is not from the queue.
    const fromQueue = claimed.length - continued;
    const asked = askedOfQueue(claim.limit, continued);
    if (started)
      this.dry.claimAnswered(started, { limit: claim.limit, claimed: claimed.length, continued });
    if (claim.limit > 0 || claimed.length)
      this.options.claimReturned?.({ asked, fromQueue, total: claimed.length });
    this.unwritten.claimed(claimed);
    if (claimed.length) this.options.claimed(claimed, sentAt);
  }

  /** Parts of a turn failed (PostgreSQL away): its changes back in line, its claim wanted again. */
  private failed(turn: Turn, error: unknown, parts: { changes: boolean; claim: boolean }): void {
    // Refused for its data, not the database: no backoff, its tasks set apart (setApart).
    const refused = parts.changes && turn.changes.length > 0 && refusedForData(error);
    if (!refused) {
      this.failures++;
      if (turn.hooked) this.hookedFailures++;
    }
    this.options.log.warn(
      {
        err: (error as Error).message,
        changes: turn.changes.length,
        changesFailed: parts.changes,
        claimFailed: parts.claim,
        failures: this.failures,
        refused,
      },
      refused ? 'a change was refused for its data; written apart' : 'recording failed; retrying',
    );
    if (parts.changes) {
      // Back in line, behind anything newer (a newer progress report wins).
      // An end that came meanwhile is a later attempt's (claimed again here): this one is fenced out.
      for (const [taskId, end] of turn.ends)
        if (this.ends.has(taskId)) end.resolve(undefined);
        else this.ends.set(taskId, end);
      for (const [taskId, report] of turn.progress)
        if (!this.progress.has(taskId) && !this.ends.has(taskId)) this.progress.set(taskId, report);
    }
    if (parts.claim && turn.claim.limit > 0) this.wantClaim = true;
    if (refused) this.refused.setApart(turn, this.waiting, error, this.options.log);
  }

  /** After a turn committed: its starts are recorded, its ends answered, its events announced. */
  private recorded(turn: Turn, { changed, deferred }: TurnWritten): void {
    for (const change of turn.changes) {
      if (deferred.has(change.taskId)) continue;
      // Written before its change, or with its end (or refused: not the worker's any more).
      if (this.unwritten.size) this.unwritten.written(change.taskId);
      if (this.refused.size) this.refused.forget(change.taskId);
      this.unrecorded.recorded(change.taskId, turn.carried.get(change.taskId));
    }
    // A rowless end has no task row, so no feed of its own to tell.
    void announceTaskEvents(
      this.options.pubsub,
      changed.some((row) => row.rowless) ? changed.filter((row) => !row.rowless) : changed,
    );
    for (const row of changed) {
      const end = turn.ends.get(row.id);
      if (end) {
        end.resolve(changedTask(end.task, row));
        turn.ends.delete(row.id);
      }
    }
    // Not changed: no longer this worker's.
    for (const end of turn.ends.values()) end.resolve(undefined);
  }
}
