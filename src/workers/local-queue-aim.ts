// How many tasks a worker's local queue aims to hold, waiting or being claimed: two batches (so
// the next batch is claimed while this one runs and its ends are written: with one, claims, runs
// and writes took turns and the worker sat idle a third of a drain), and no more waiting work than
// about LOCAL_QUEUE_WORK_MS per slot, from the handlers' recent durations: short tasks are claimed
// a batch at a time, long ones little ahead of the slots, so they are not held here while another
// worker's slots are free (a task reclaimed from a dead worker among them).

/** The waiting tasks' work per slot the local queue aims at, in handler milliseconds. */
const LOCAL_QUEUE_WORK_MS = 100;
/** The weight of each new duration in the handlers' moving average. */
const DURATION_WEIGHT = 0.2;

export class LocalQueueAim {
  /** The handlers' recent duration (moving average); unknown at first, taken as the aim. */
  private handlerMs = LOCAL_QUEUE_WORK_MS;

  constructor(private readonly slots: { concurrency: number; batchSize: number }) {}

  /** A handler ran this long. */
  ran(ms: number): void {
    this.handlerMs += DURATION_WEIGHT * (ms - this.handlerMs);
  }

  /** The tasks to hold, waiting or being claimed. */
  target(): number {
    const { batchSize, concurrency } = this.slots;
    const ahead = (concurrency * LOCAL_QUEUE_WORK_MS) / Math.max(this.handlerMs, 0.001);
    return Math.min(2 * batchSize, Math.floor(ahead));
  }
}
