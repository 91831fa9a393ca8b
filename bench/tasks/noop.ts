// The benchmark's task types: `noop` (measures the engine alone) and `ticker` (reports
// progress N times, for the fan-out benchmark).
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask, type TaskDefinition } from '../../src/workers/task-definition.js';

const noop = defineTask<unknown>({
  type: 'noop',
  timeoutSeconds: 60,
  maxAttempts: 1,
  parsePayload: (payload) => payload,
  run: async () => null,
});

const ticker = defineTask<{ ticks: number; intervalMs: number }>({
  type: 'ticker',
  timeoutSeconds: 600,
  maxAttempts: 1,
  parsePayload: (payload) => payload as { ticks: number; intervalMs: number },
  async run({ ticks, intervalMs }, { reportProgress, signal }) {
    for (let i = 1; i <= ticks; i++) {
      reportProgress((100 * i) / (ticks + 1), `tick ${i}`);
      await sleep(intervalMs, undefined, { signal });
    }
    return { ticks };
  },
});

export const benchTaskDefinitions: ReadonlyMap<string, TaskDefinition<any>> = new Map(
  [noop, ticker].map((definition) => [definition.type, definition as TaskDefinition<any>]),
);
