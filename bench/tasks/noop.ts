// The benchmark's task types: `noop` (measures the engine alone) and `ticker` (reports
// progress N times, for the fan-out benchmark).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { taskSpec } from '../../src/queue/task-spec.js';
import { defineTask, type TaskDefinition } from '../../src/queue/task-definition.js';

export const noop = taskSpec({
  name: 'noop',
  payload: z.unknown(),
  maxAttempts: 1,
  timeoutSeconds: 60,
});
export const ticker = taskSpec({
  name: 'ticker',
  payload: z.object({ ticks: z.number(), intervalMs: z.number() }),
  maxAttempts: 1,
  timeoutSeconds: 600,
});

export const benchTaskDefinitions: readonly TaskDefinition[] = [
  defineTask(noop, { run: async () => null }),
  defineTask(ticker, {
    async run({ ticks, intervalMs }, { reportProgress, signal }) {
      for (let i = 1; i <= ticks; i++) {
        reportProgress((100 * i) / (ticks + 1), `tick ${i}`);
        await sleep(intervalMs, undefined, { signal });
      }
      return { ticks };
    },
  }),
];
