// The workflow settings (WORKFLOW_*): their part of the environment's schema and their typed
// form, read by config.ts with the rest (as config-rate-limits.ts does for its own).
import { z } from 'zod';

export const workflowEnv = {
  WORKFLOW_MAX_STEPS: z.coerce.number().int().min(1).max(100_000).default(1_000),
  WORKFLOW_MAX_REPLANS: z.coerce.number().int().min(0).max(100).default(2),
  WORKFLOW_MAX_PARALLEL_STEPS: z.coerce.number().int().min(1).max(1_000).default(16),
  WORKFLOW_RECONCILE_MS: z.coerce.number().int().min(100).default(5_000),
};

type WorkflowEnv = { [K in keyof typeof workflowEnv]: z.infer<(typeof workflowEnv)[K]> } & {
  LLM_INPUT_PRICE_PER_MTOK: number;
  LLM_OUTPUT_PRICE_PER_MTOK: number;
};

/** Workflows (issue 30): plan size, replans, parallelism, the reconciler's period, the token price. */
export interface WorkflowConfig {
  maxSteps: number;
  maxReplans: number;
  maxParallelSteps: number;
  reconcileMs: number;
  /** The mean of the LLM's input and output prices: estimates count tokens, not their kind. */
  pricePerMillionTokens: number;
}

export function workflowConfig(e: WorkflowEnv): WorkflowConfig {
  return {
    maxSteps: e.WORKFLOW_MAX_STEPS,
    maxReplans: e.WORKFLOW_MAX_REPLANS,
    maxParallelSteps: e.WORKFLOW_MAX_PARALLEL_STEPS,
    reconcileMs: e.WORKFLOW_RECONCILE_MS,
    pricePerMillionTokens: (e.LLM_INPUT_PRICE_PER_MTOK + e.LLM_OUTPUT_PRICE_PER_MTOK) / 2,
  };
}
