// What the workflow planners read and write: a goal, the agents it draws on and an
// outline become steps with dependencies, each with a complexity that scales its estimate.
import type { Language } from './types.js';

export const STEP_KINDS = [
  'RETRIEVE',
  'REFRESH_COVERAGE',
  'WRITE_SECTION',
  'SYNTHESIZE',
  'NOOP',
  'PLUGIN_TOOL',
  'PLUGIN_AGENT',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];
/** Kinds that run a team's plugin (input.installationId): a plan names them, a planner never does. */
export const PLUGIN_STEP_KINDS: ReadonlySet<string> = new Set(['PLUGIN_TOOL', 'PLUGIN_AGENT']);
export const isStepKind = (kind: string): kind is StepKind =>
  (STEP_KINDS as readonly string[]).includes(kind);

export const FAILURE_POLICIES = ['FAIL_WORKFLOW', 'SKIP', 'SKIP_BRANCH', 'REPLAN'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

/** The goal planner's scale: simple, normal, complex. */
export const COMPLEXITIES = [0.7, 1.0, 1.5] as const;

export const WORKFLOW_LIMITS = {
  goal: 2_000,
  key: 100,
  outline: 20,
  noopWaitMs: 60_000,
  /** A section's title and description, in characters as people count them (graphemes). */
  title: 200,
  description: 2_000,
  /** A section's order and total, and a retrieval's topK (the search's own bound). */
  order: 1_000,
  topK: 100,
  /**
   * A plan's dependencies in all (each step's, one named twice counted once): a fan-in of a
   * thousand is 1,000; a thousand steps each on every earlier one, 499,500, took a request
   * seconds to store (past its transaction's bound) for a graph no one reads.
   */
  dependencies: 20_000,
} as const;

/** One step of a plan, before it is stored. */
export interface PlannedStep {
  key: string;
  kind: string;
  /** A row id of one of the plan's agents (RETRIEVE, REFRESH_COVERAGE need one). */
  agentId: string | null;
  dependsOn: string[];
  input: Record<string, unknown>;
  complexity: number;
  /** null: the workflow's policy. */
  failurePolicy: FailurePolicy | null;
}

export interface WorkflowAgent {
  id: string;
  name: string;
  scopeDescription: string | null;
  lastCoverageUpdate: Date | null;
}

export interface OutlineHeading {
  title: string;
  description: string;
}

export interface WorkflowPlanContext {
  goal: string;
  language: Language;
  agents: WorkflowAgent[];
  /** The template's guide (promptSystem): its headings or lists are the outline; null: the default one. */
  guide: string | null;
  /** Coverage older than a day before this is stale (an input, so the plan is a pure function). */
  now: Date;
}

/** A step as it stands when replanning: what ran, what failed, what has not started. */
export interface StepState {
  key: string;
  kind: string;
  agentId: string | null;
  dependsOn: string[];
  status: string;
  started: boolean;
  error: string | null;
  /** A short view of its result (for an LLM's context). */
  summary: string | null;
  step: PlannedStep;
}

export interface ReplanContext extends WorkflowPlanContext {
  steps: StepState[];
  hint: string | null;
}

export interface StepEstimate {
  seconds: number;
  tokens: number;
  costUsd: number;
}

export interface Constraints {
  maxSeconds?: number | null;
  maxCostUsd?: number | null;
  maxSteps?: number | null;
}

export interface ConstraintViolation {
  constraint: 'TIME' | 'COST' | 'STEPS';
  limit: number;
  estimate: number;
  message: string;
}

/** Why a plan is refused: the reason clients switch on, and what it names. */
export interface PlanProblem {
  reason:
    | 'CYCLE'
    | 'UNKNOWN_AGENT'
    | 'UNKNOWN_STEP_KIND'
    | 'DUPLICATE_STEP_KEY'
    | 'UNKNOWN_DEPENDENCY'
    | 'TOO_MANY_STEPS'
    | 'TOO_MANY_DEPENDENCIES'
    | 'INVALID_STEP'
    | 'INVALID_COMPLEXITY';
  message: string;
  details: Record<string, unknown>;
}
