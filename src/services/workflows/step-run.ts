// What the worker's workflow_step task calls: read and start steps (batched by the caller),
// report a step's progress at most 4 times a second, and settle ended tasks.
import { inTransaction, poolQueryable } from '../../platform/db.js';
import { progressPercent, writableText } from '../../platform/storable.js';
import type { PubSub } from '../../platform/pubsub.js';
import { noSignals, noteLogs, sendSignals, type WorkflowSignals } from './signals.js';
import {
  markStepsRunning,
  type StartedStep,
  type StepRun,
  type StepStart,
} from './sql/mark-running.js';
import { readStepsToRun } from './sql/read-steps-to-run.js';
import { lockWorkflows } from './sql/lock-workflows.js';
import { recordStepProgress } from './sql/record-step-progress.js';

export type { StartedStep, StepStart };

/**
 * What each step's run needs; a step no longer live on its task answers undefined. On the pool,
 * past Prisma, as the worker's turns (poolQueryable): read for every step the queue's claim
 * brought, it was most of the Prisma time in a worker's profile of 20,000 steps.
 */
export async function readSteps(
  starts: readonly StepStart[],
): Promise<Array<StartedStep | undefined>> {
  const byStep = new Map(
    (await readStepsToRun(poolQueryable(), starts)).map((row) => [row.id, row]),
  );
  return starts.map((start) => byStep.get(start.stepId));
}

/** Marks steps RUNNING (those still live on their tasks), announced once committed. */
export async function startSteps(starts: readonly StepStart[], pubsub: PubSub): Promise<void> {
  sendSignals(pubsub, startSignals(await markStepsRunning(poolQueryable(), starts)));
}

/** The started steps' workflows, each announced once with its log's new end. */
function startSignals(
  rows: ReadonlyArray<{ workflowId: string; lastSequence: number | null }>,
): WorkflowSignals {
  const signals = noSignals();
  noteLogs(
    signals,
    rows.flatMap(({ workflowId, lastSequence }) =>
      lastSequence === null ? [] : [{ workflowId, lastSequence }],
    ),
  );
  return signals;
}

/**
 * A step's progress events are this far apart at least, measured from the end of one write to
 * the start of the next (so the events' own times, taken inside the writes, are too): at most
 * 4 a second, even when a write waited for the workflow's lock.
 */
const PROGRESS_INTERVAL_MS = 251;

/**
 * The progress event, with the workflow locked first: behind a commit that ended the step or
 * the workflow, the statement then sees that end and writes nothing (waiting inside itself, it
 * read the step as RUNNING and put a progress event after the workflow's last one).
 */
function progressEvent(
  step: StartedStep,
  run: StepRun,
  progress: { percent: number; message: string },
): Promise<number | undefined> {
  return inTransaction(async (tx) => {
    await lockWorkflows(tx.client, [step.workflowId]);
    return recordStepProgress(tx.client, { id: step.id, ...progress }, run);
  });
}

/**
 * A step's reportProgress: at most one event per PROGRESS_INTERVAL_MS (the latest report wins),
 * each after the step's start is recorded (`started`: a progress event is only for a RUNNING step).
 */
export function stepProgress(
  step: StartedStep,
  run: StepRun,
  pubsub: PubSub,
  started: () => Promise<unknown>,
) {
  let pending: { percent: number; message: string } | undefined;
  let lastDone = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let settled = false;
  const schedule = () => {
    if (settled || !pending || writing || timer) return;
    const wait = lastDone + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };
  const flush = () => {
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (!next || settled) return;
    writing = started()
      .then(() => progressEvent(step, run, next))
      .then((sequence) => {
        if (sequence !== undefined)
          void pubsub.publish('workflowEvents', step.workflowId, {
            workflowId: step.workflowId,
            sequence,
          });
      })
      .catch(() => undefined)
      .finally(() => {
        writing = undefined;
        lastDone = Date.now();
        schedule();
      });
  };
  return {
    report(percent: number, message: string) {
      pending = { percent: progressPercent(percent), message: writableText(message.slice(0, 500)) };
      schedule();
    },
    /** No more events; resolves once the one being written (if any) is. */
    settle() {
      settled = true;
      clearTimeout(timer);
      return writing ?? Promise.resolve();
    },
  };
}
