// A running task's reportProgress: at most one report per PROGRESS_INTERVAL_MS reaches the
// worker's turns (the last one always does, unless the attempt ends first: its end says more),
// each written with its event in the next turn.
import { progressPercent, writableText } from '../platform/storable.js';
import type { Turns } from './turns.js';

const PROGRESS_INTERVAL_MS = 250;

export class ProgressReporter {
  private pending: { percent: number; step: string } | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `lastReport`: the attempt's start (Date.now()), the first change recorded of it, counts towards the rate. */
  constructor(
    private readonly taskId: string,
    private readonly attempt: number,
    private readonly running: { readonly stopping: boolean },
    private readonly turns: Pick<Turns, 'report'>,
    private lastReport: number,
  ) {}

  report(percent: number, step: string): void {
    this.pending = {
      percent: progressPercent(percent),
      step: typeof step === 'string' ? writableText(step) : step,
    };
    const wait = this.lastReport + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0) this.handOn();
    else this.timer ??= setTimeout(handOnLater, wait, this);
  }

  /** Drops a report not handed on yet (the attempt ended). */
  settle(): void {
    clearTimeout(this.timer);
    this.pending = undefined;
  }

  handOn(): void {
    this.timer = undefined;
    const next = this.pending;
    this.pending = undefined;
    if (!next || this.running.stopping) return;
    this.lastReport = Date.now();
    this.turns.report(this.taskId, this.attempt, next.percent, next.step);
  }
}

const handOnLater = (reporter: ProgressReporter) => reporter.handOn();
