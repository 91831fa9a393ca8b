// The text-generation seam: a report is written section by section by a
// ReportWriter; the `local` one is deterministic and offline, the LLM ones stream from a
// ChatClient (OpenAI-compatible or Anthropic, through their official SDKs).
import type { Language, PlannerName, PlanSection } from '../planner/types.js';

/** `routed`: the router's client, which picks a deployment per call (it says which: onProvider). */
export type ProviderName = 'local' | 'openai' | 'anthropic' | 'routed';

export interface ChatRequest {
  system: string;
  user: string;
  maxTokens: number;
  signal: AbortSignal;
  /** Retries inside the SDK; 0 unless given (the router's loop is the one retry loop). */
  maxRetries?: number;
  /** Told the tokens the provider counted, once its stream has said (for metrics and cost). */
  onUsage?(usage: TokenUsage): void;
  /** Told the HTTP status of the provider's answer once its stream opens (before any text). */
  onResponse?(status: number): void;
  /**
   * Told when a routed call whose stream broke after text restarts on another deployment:
   * the text received so far is void, the reply starts again.
   */
  onRestart?(): void;
  /** Whom the call is for (budgets, metering); unset: the operator's. */
  call?: LlmCallScope;
  /** Told which provider answered (a routed call's deployment). */
  onProvider?(name: PlannerName): void;
  /** Told each attempt's metered tokens and cost (a routed call's, failed attempts included). */
  onMetered?(usage: MeteredUsage): void;
  /**
   * A routed call's attempt that streams nothing for this long (its first token, or the next)
   * goes to the next candidate, its deployment cooled down; at most the router's own limit.
   */
  attemptTimeoutMs?: number;
}

/** What one attempt was metered at: its llm_calls row's tokens and cost. */
export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Whom an LLM call serves: what the router meters it against and whose routes and budgets apply. */
export interface LlmCallScope {
  teamId: string | null;
  apiKeyId: string | null;
  topicId?: string | null;
  taskId?: string | null;
  /** The workflow the call serves (its plan, a replan, a step's section). */
  workflowId?: string | null;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** An LLM chat endpoint, streaming: yields text deltas as they arrive. */
export interface ChatClient {
  readonly name: Exclude<ProviderName, 'local'>;
  readonly model: string;
  streamChat(request: ChatRequest): AsyncIterable<string>;
}

/** A retrieved chunk the section may draw on (and cite by its document title). */
export interface SectionSource {
  documentId: string;
  title: string;
  content: string;
}

export interface SectionRequest {
  /** Whom the section is written for (routes, budgets, metering). */
  call?: LlmCallScope;
  /** A routed writer's stream broke after text and starts the section again on another deployment. */
  onRestart?(): void;
  /** Each attempt's metered tokens and cost (what the section cost). */
  onMetered?(usage: MeteredUsage): void;
  topic: string;
  language: Language;
  /** The approved plan (Markdown), for the LLM's view of the whole report. */
  plan: string;
  section: PlanSection;
  total: number;
  sources: SectionSource[];
}

export interface ReportWriter {
  readonly name: ProviderName;
  /** The section's body in Markdown (without its own heading), streamed in pieces. */
  writeSection(request: SectionRequest, signal: AbortSignal): AsyncIterable<string>;
}

/**
 * A provider's refusal or failure. `retryable` says whether trying again may help
 * (rate limits, overload, network) or not (bad key, unknown model, invalid request).
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly detail: {
      retryAfterMs?: number;
      cut?: boolean;
      network?: boolean;
      /** No deployment of the route tried, each cooling down: the first passes in this long. */
      cooldownEndsInMs?: number;
    } = {},
  ) {
    super(message);
  }
}

/**
 * The router chose the deterministic local provider for this call (a route's LOCAL
 * deployment, or its fallbackToLocal once every candidate failed): the planner and the
 * writer do the local thing. `fellBack`: the LLM candidates were tried or skipped first.
 */
export class LocalProviderChosen extends Error {
  override name = 'LocalProviderChosen';
  /**
   * Set by the router when the route chose a LOCAL deployment: the caller says what the local
   * planner or writer wrote, and the call is metered as any other (at cost 0).
   */
  metered?: (text: string) => void;
  constructor(
    readonly fellBack: boolean,
    reason: string,
  ) {
    super(reason);
  }
}
