// A steady arrival rate for the add→start measures: RATE_PER_SECOND tasks a second for
// RATE_SECONDS, each added when its time comes (one at a time, as requests would).
import { setTimeout as sleep } from 'node:timers/promises';

export const RATE_PER_SECOND = Number(process.env.BENCH_QUEUE_RATE ?? 500);
export const RATE_SECONDS = 5;

export async function steadily(add: () => Promise<unknown>): Promise<void> {
  const total = RATE_PER_SECOND * RATE_SECONDS;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    await add();
    const due = started + ((i + 1) * 1000) / RATE_PER_SECOND;
    if (due > Date.now()) await sleep(due - Date.now());
  }
}
