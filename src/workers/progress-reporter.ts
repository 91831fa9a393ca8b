// A running task's reportProgress: at most one report per PROGRESS_INTERVAL_MS reaches the
// worker's turns (the last one always does, unless the attempt ends first: its end says more),
// each written with its event in the next turn.
import type { Turns } from './turns.js';

const PROGRESS_INTERVAL_MS = 250;

export interface ProgressReporter {
  report(percent: number, step: string): void;
  /** Drops a report not handed on yet (the attempt ended). */
  settle(): void;
}

export function progressReporter(
  taskId: string,
  attempt: number,
  running: { readonly stopping: boolean },
  turns: Pick<Turns, 'report'>,
): ProgressReporter {
  let pending: { percent: number; step: string } | undefined;
  // Its start (the first change recorded of it) counts towards the rate.
  let lastReport = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const handOn = () => {
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (!next || running.stopping) return;
    lastReport = Date.now();
    turns.report(taskId, attempt, next.percent, next.step);
  };
  return {
    report(percent, step) {
      pending = { percent: Math.max(0, Math.min(99, Math.round(percent))), step };
      const wait = lastReport + PROGRESS_INTERVAL_MS - Date.now();
      if (wait <= 0) handOn();
      else timer ??= setTimeout(handOn, wait);
    },
    settle() {
      clearTimeout(timer);
      pending = undefined;
    },
  };
}
