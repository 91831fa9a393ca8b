// The `model` label of the llm_* families (metrics.ts). A deployment's model is text a team
// ADMIN chooses (1–200 characters), while metric labels must never carry ids, names or URLs
// (docs/operations.md) and the families are by provider, model, service and outcome: the
// label keeps a model only when it looks like a model id and is one of the first
// MAX_MODEL_LABELS this process labelled; anything else is `other`.
import type { LlmMetrics } from './metrics.js';

/** gpt-4o-mini, claude-3-5-sonnet-20241022, llama3.1:8b, meta-llama/Llama-3.1-8B-Instruct. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/**
 * Far more models than a deployment list really routes to, yet a bound on the series: each
 * model is a series per service and outcome in five families, and without a cap the models
 * admins type would grow the scrape without end.
 */
export const MAX_MODEL_LABELS = 50;

export const OTHER_MODEL = 'other';

/** The label for a model, remembering the first `max` distinct models it kept. */
export function modelLabeller(max = MAX_MODEL_LABELS): (model: string) => string {
  const kept = new Set<string>();
  return (model) => {
    if (!MODEL_ID.test(model) || model.includes('://')) return OTHER_MODEL;
    if (kept.has(model)) return model;
    if (kept.size >= max) return OTHER_MODEL;
    kept.add(model);
    return model;
  };
}

/** The families with their `model` label bounded (one labeller per registry, as the families). */
export function withBoundedModels(metrics: LlmMetrics): LlmMetrics {
  const label = modelLabeller();
  return {
    record: (attempt) => metrics.record({ ...attempt, model: label(attempt.model) }),
    routed: (call) => metrics.routed(call),
    softLimitPassed: (scope) => metrics.softLimitPassed(scope),
  };
}
