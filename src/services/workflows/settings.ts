// What workflows need from the process, made by main from the configuration and
// passed down: limits, the replan budget, the reconciler's period, the token price.
export interface WorkflowSettings {
  /** A plan has at most this many steps (TOO_MANY_STEPS past it). */
  maxSteps: number;
  /** REPLAN failures per workflow before the policy is FAIL_WORKFLOW. */
  maxReplans: number;
  /** Steps of one workflow running at once, unless the plan says otherwise. */
  maxParallelSteps: number;
  /** How often each worker repairs what a killed process left between commits. */
  reconcileMs: number;
  /** USD per million tokens (the mean of the LLM's input and output prices). */
  pricePerMillionTokens: number;
}

export const DEFAULT_WORKFLOW_SETTINGS: WorkflowSettings = {
  maxSteps: 1_000,
  maxReplans: 2,
  maxParallelSteps: 16,
  reconcileMs: 5_000,
  pricePerMillionTokens: 0,
};

/** The most a plan may ask for in parallel. */
export const MAX_PARALLEL_STEPS = 1_000;
