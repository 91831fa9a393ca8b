// A steady arrival rate for the add→start measures: RATE_PER_SECOND tasks a second for
// WARM_UP_SECONDS and then RATE_SECONDS, each added when its time comes (one at a time, as
// requests would). The first WARM_UP_TASKS are not in the figure, for every engine alike: each
// engine's worker process is new for this phase, and its first tasks paid for opening its
// connections and compiling its code (in one run the 30 slowest of ours all came in the
// first 620 ms), which says how it starts, not how it keeps up. Three seconds, not one: at
// this pace V8 takes about that long to optimize a new worker's code (ours' p99 second by
// second over 15 s: 10, 6, 6, then 3–6 ms; bench/README.md, "Queue"). Their p99 is printed
// apart, as the start's figure.
import { setTimeout as sleep } from 'node:timers/promises';

export const RATE_PER_SECOND = Number(process.env.BENCH_QUEUE_RATE ?? 500);
export const RATE_SECONDS = 5;
const WARM_UP_SECONDS = 3;
/** Added first and left out of the figures (each engine's first tasks in add order). */
export const WARM_UP_TASKS = RATE_PER_SECOND * WARM_UP_SECONDS;
/** How the warm-up's tasks are named where their own p99 is printed. */
export const WARM_UP_LABEL = `its first ${WARM_UP_SECONDS} s (a new process)`;
/** How many tasks steadily() adds, the warm-up's included. */
export const STEADY_TASKS = WARM_UP_TASKS + RATE_PER_SECOND * RATE_SECONDS;

/** `count` calls of `run`, one at a time, each when its time comes at RATE_PER_SECOND; each one's time (ms). */
export async function paced(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const took: number[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const before = performance.now();
    await run();
    took.push(performance.now() - before);
    const due = started + ((i + 1) * 1000) / RATE_PER_SECOND;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  return took;
}

/** STEADY_TASKS adds at RATE_PER_SECOND. */
export async function steadily(add: () => Promise<unknown>): Promise<void> {
  await paced(STEADY_TASKS, add);
}
