// report_generation: a topic's report, written in the background. Declared here, where it is
// enqueued (generation.ts); the worker runs it (src/workers/tasks/report-generation.ts).
import { z } from 'zod';
import { taskSpec } from '../../queue/task-spec.js';

export const reportGeneration = taskSpec({
  name: 'report_generation',
  // apiKeyId: the key that asked (its LLM budget applies to the sections); absent in older tasks.
  payload: z.object({ topicId: z.guid(), apiKeyId: z.guid().nullable().optional() }),
  maxAttempts: 3,
  timeoutSeconds: 600,
});
