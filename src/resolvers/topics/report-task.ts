// report_generation: a topic's report, written in the background. Declared here, where it is
// enqueued (generation.ts); the worker runs it (src/workers/tasks/report-generation.ts).
import { z } from 'zod';
import { taskSpec } from '../../queue/task-spec.js';

export const reportGeneration = taskSpec({
  name: 'report_generation',
  payload: z.object({ topicId: z.guid() }),
  maxAttempts: 3,
  timeoutSeconds: 600,
});
