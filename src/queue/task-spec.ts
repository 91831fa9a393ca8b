// A task type as the queue knows it: a name, a payload schema and its limits (graphile-worker's
// typed task identifiers). Each domain declares its own types with taskSpec; the worker pairs
// each spec with how to run it (src/workers/task-registry.ts). The queue itself knows no type.
import type { z } from 'zod';

export interface TaskSpec<Payload = unknown> {
  readonly name: string;
  readonly payload: z.ZodType<Payload>;
  /** Attempts before the task is dead-lettered (DEAD). */
  readonly maxAttempts: number;
  /** An attempt running longer ends as TIMEOUT. */
  readonly timeoutSeconds: number;
  /**
   * The wait before each retry, in order (the last repeats); unset: the engine's exponential
   * backoff (TASK_BACKOFF_*). For types whose retries follow a published schedule (webhooks).
   */
  readonly retryDelaysMs?: readonly number[];
}

export function taskSpec<Schema extends z.ZodType>(spec: {
  name: string;
  payload: Schema;
  maxAttempts: number;
  timeoutSeconds: number;
  retryDelaysMs?: readonly number[];
}): TaskSpec<z.output<Schema>> {
  return spec as TaskSpec<z.output<Schema>>;
}
