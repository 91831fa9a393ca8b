// LLM calls on /metrics, measured where the services call the (pure) providers: the chat
// client the planner and the writer get is wrapped here. Counted by provider, model (the
// operator's LLM_MODEL), the service that asked (plan: planTopic in an API process; report:
// a report section in a worker) and outcome; with latency, time to the first token, the
// tokens the provider reported, and their cost at the configured prices.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ChatClient, ChatRequest, TokenUsage } from '../../reports/providers/index.js';

export type LlmService = 'plan' | 'report';
/**
 * ok; error: the provider refused or failed; timeout: the plan budget or the task's timeout
 * passed; aborted: cancelled, or the reader stopped.
 */
type LlmOutcome = 'ok' | 'error' | 'timeout' | 'aborted';

/** USD per million tokens (LLM_INPUT_PRICE_PER_MTOK, LLM_OUTPUT_PRICE_PER_MTOK; 0 when unknown). */
export interface LlmPrices {
  inputPerMillionTokens: number;
  outputPerMillionTokens: number;
}

export const NO_PRICES: LlmPrices = { inputPerMillionTokens: 0, outputPerMillionTokens: 0 };

export interface LlmMetrics {
  /** The same chat, measured as `service`'s calls. */
  instrument(chat: ChatClient, service: LlmService, prices: LlmPrices): ChatClient;
}

const LABELS = ['provider', 'model', 'service'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

function llmFamilies(registry: Registry) {
  return {
    requests: new Counter({
      name: 'llm_requests_total',
      help: 'LLM calls by provider, model, service (plan, report) and outcome (ok, error, timeout, aborted).',
      labelNames: [...LABELS, 'outcome'] as const,
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
      help: 'Tokens the LLM provider reported, by type (input, output).',
      labelNames: [...LABELS, 'type'] as const,
      registers: [registry],
    }),
    cost: new Counter({
      name: 'llm_cost_usd_total',
      help: 'Estimated cost of the reported tokens in USD, at LLM_INPUT_PRICE_PER_MTOK and LLM_OUTPUT_PRICE_PER_MTOK.',
      labelNames: LABELS,
      registers: [registry],
    }),
  };
}
type LlmFamilies = ReturnType<typeof llmFamilies>;

/** AbortSignal.timeout's reason (the plan budget), or the worker's for a task's timeout. */
function outcomeOf(signal: AbortSignal): LlmOutcome {
  if (!signal.aborted) return 'error';
  const reason = signal.reason as Error | undefined;
  return reason?.name === 'TimeoutError' || reason?.message === 'timeout' ? 'timeout' : 'aborted';
}

function recordUsage(families: LlmFamilies, labels: Labels, usage: TokenUsage, prices: LlmPrices) {
  families.tokens.inc({ ...labels, type: 'input' }, usage.inputTokens);
  families.tokens.inc({ ...labels, type: 'output' }, usage.outputTokens);
  const cost =
    (usage.inputTokens * prices.inputPerMillionTokens +
      usage.outputTokens * prices.outputPerMillionTokens) /
    1_000_000;
  families.cost.inc(labels, cost);
}

async function* measured(
  chat: ChatClient,
  request: ChatRequest,
  labels: Labels,
  families: LlmFamilies,
  prices: LlmPrices,
): AsyncGenerator<string> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let usage: TokenUsage | undefined;
  let outcome: LlmOutcome | undefined;
  let first = true;
  const onUsage = (reported: TokenUsage) => {
    usage = reported;
    request.onUsage?.(reported);
  };
  try {
    for await (const delta of chat.streamChat({ ...request, onUsage })) {
      if (first) families.firstToken.observe(labels, seconds());
      first = false;
      yield delta;
    }
    outcome = 'ok';
  } catch (error) {
    outcome = outcomeOf(request.signal);
    throw error;
  } finally {
    // No outcome: the reader stopped early (return()), which ends the stream.
    families.requests.inc({ ...labels, outcome: outcome ?? 'aborted' });
    families.duration.observe(labels, seconds());
    if (usage) recordUsage(families, labels, usage, prices);
  }
}

export function createLlmMetrics(registry: Registry): LlmMetrics {
  const families = llmFamilies(registry);
  return {
    instrument(chat, service, prices) {
      const labels: Labels = { provider: chat.name, model: chat.model, service };
      return {
        name: chat.name,
        model: chat.model,
        streamChat: (request) => measured(chat, request, labels, families, prices),
      };
    },
  };
}
