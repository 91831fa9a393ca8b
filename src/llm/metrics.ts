// LLM calls on /metrics, one observation per attempt the router makes (src/services/llm):
// by provider, model (the deployment's, bounded: llm/model-label.ts), the service that asked
// (plan: planTopic in an API process; report: a report section in a worker) and outcome; with
// latency, time to the first token, the tokens the provider reported (or estimated) and their
// cost at the deployment's prices; and each routed call's own time in the router. No ids in
// labels.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TokenUsage } from '../reports/writers/types.js';

export type LlmService = 'plan' | 'report';

/** One attempt as the router saw it. */
export interface LlmAttemptObservation {
  provider: string;
  model: string;
  service: LlmService;
  /**
   * ok, error, timeout, aborted, and the router's: bad_request, rejected, rate_limited,
   * server_error, network_error, cut.
   */
  outcome: string;
  seconds: number;
  /** Undefined when no text came. */
  firstTokenSeconds: number | undefined;
  usage: TokenUsage | undefined;
  costUsd: number;
}

/** One routed call: the time it spent in the router rather than at a provider. */
export interface LlmRouterObservation {
  service: LlmService;
  /** ok (a deployment answered), local (the route chose the local provider), error. */
  outcome: 'ok' | 'local' | 'error';
  seconds: number;
}

export interface LlmMetrics {
  record(attempt: LlmAttemptObservation): void;
  routed(call: LlmRouterObservation): void;
  /** A budget (team or api_key) that a call's cost took past its soft threshold. */
  softLimitPassed(scope: 'team' | 'api_key'): void;
}

const LABELS = ['provider', 'model', 'service', 'outcome'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

function llmFamilies(registry: Registry) {
  return {
    requests: new Counter({
      name: 'llm_requests_total',
      help:
        'LLM call attempts by provider, model, service (plan, report) and outcome (ok, ' +
        'bad_request, rejected, rate_limited, server_error, network_error, cut, timeout, ' +
        'aborted, error).',
      labelNames: LABELS,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'An LLM call from the request to the end of its stream.',
      labelNames: LABELS,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers: [registry],
    }),
    firstToken: new Histogram({
      name: 'llm_time_to_first_token_seconds',
      help: 'An LLM call from the request to its first streamed text.',
      labelNames: LABELS,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'llm_tokens_total',
      help:
        'Tokens the LLM provider reported (estimated where it reported none and text came; ' +
        'none for a refused request), by type (input, output).',
      labelNames: [...LABELS, 'type'] as const,
      registers: [registry],
    }),
    routerOverhead: new Histogram({
      name: 'llm_router_overhead_seconds',
      help:
        "A routed call's time outside its provider attempts: the route's ranking, budget " +
        'reservations, the key, failover between attempts, metering (one observation per call; ' +
        'outcome ok, local, error).',
      labelNames: ['service', 'outcome'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    softLimit: new Counter({
      name: 'llm_budget_soft_limit_crossings_total',
      help:
        "LLM budgets a call's cost took past their soft threshold (softLimitPercent of the " +
        'limit), by scope (team, api_key); the log names the budget.',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    cost: new Counter({
      name: 'llm_cost_usd_total',
      help:
        "Cost of the reported tokens in USD, at the deployment's prices (the env deployment's: " +
        'LLM_*_PRICE_PER_MTOK).',
      labelNames: LABELS,
      registers: [registry],
    }),
  };
}

export function createLlmMetrics(registry: Registry): LlmMetrics {
  const families = llmFamilies(registry);
  return {
    record({ provider, model, service, outcome, seconds, firstTokenSeconds, usage, costUsd }) {
      const labels: Labels = { provider, model, service, outcome };
      families.requests.inc(labels);
      families.duration.observe(labels, seconds);
      if (firstTokenSeconds !== undefined) families.firstToken.observe(labels, firstTokenSeconds);
      if (usage) {
        families.tokens.inc({ ...labels, type: 'input' }, usage.inputTokens);
        families.tokens.inc({ ...labels, type: 'output' }, usage.outputTokens);
      }
      families.cost.inc(labels, costUsd);
    },
    routed({ service, outcome, seconds }) {
      families.routerOverhead.observe({ service, outcome }, seconds);
    },
    softLimitPassed(scope) {
      families.softLimit.inc({ scope });
    },
  };
}
