// The chaos run's task type: a few hundred milliseconds of work in steps (so that a killed
// worker is caught mid-task), then the service's real side effect, the agent's coverage with
// its history entry, keyed by the task (a task run twice would show as a second COMPLETED).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { computeAndRecordCoverage } from '../../src/services/coverage/coverage.js';
import { taskSpec } from '../../src/queue/task-spec.js';
import { defineTask } from '../../src/queue/task-definition.js';

export const chaosStep = taskSpec({
  name: 'chaos_step',
  payload: z.object({ agentId: z.guid(), ms: z.number().int().min(0).max(10_000) }),
  maxAttempts: 10,
  timeoutSeconds: 60,
});

const STEPS = 4;

export const chaosStepTask = defineTask(chaosStep, {
  async run({ agentId, ms }, { task, signal, reportProgress, pubsub }) {
    for (let step = 1; step <= STEPS; step++) {
      await sleep(ms / STEPS, undefined, { signal });
      reportProgress((100 * step) / (STEPS + 1), `step ${step}`);
    }
    const report = await computeAndRecordCoverage(agentId, { taskId: task.id, pubsub });
    return { overallCoverage: report.overallCoverage };
  },
});
