// A running task's reportProgress: coalesced to at most one write per PROGRESS_INTERVAL_MS
// (the last report always lands), each write with its event and the notification carrying it.
import { db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { recordProgress } from '../queue/record-progress.js';
import { announceTaskEvent } from '../queue/signals.js';

const PROGRESS_INTERVAL_MS = 250;

export interface ProgressReporter {
  report(percent: number, step: string): void;
  /** Drops a report not yet written and waits for the writes under way. */
  settle(): Promise<void>;
}

export function progressReporter(
  taskId: string,
  workerId: string,
  signal: AbortSignal,
  pubsub: PubSub,
  log: Logger,
): ProgressReporter {
  let pending: { percent: number; step: string } | undefined;
  // The claim wrote this task's RUNNING event just now: it counts towards the rate.
  let lastWrite = Date.now();
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (!next || signal.aborted) return;
    lastWrite = Date.now();
    writing = writing
      .then(() => recordProgress(db(), taskId, workerId, next.percent, next.step))
      .then((event) =>
        event
          ? announceTaskEvent(pubsub, { id: taskId, lastSequence: event.sequence, event })
          : undefined,
      )
      .catch((err) => log.warn({ err }, 'progress not recorded'));
  };
  return {
    report(percent, step) {
      pending = { percent: Math.max(0, Math.min(99, Math.round(percent))), step };
      const wait = lastWrite + PROGRESS_INTERVAL_MS - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    settle() {
      clearTimeout(timer);
      return writing;
    },
  };
}
