// The text-generation seam (SPEC C6): a report is written section by section by a
// ReportWriter; the `local` one is deterministic and offline, the LLM ones stream from a
// ChatClient (OpenAI-compatible or Anthropic, through their official SDKs).
import type { Language, PlanSection } from '../planner/types.js';

export type ProviderName = 'local' | 'openai' | 'anthropic';

/** Which provider writes (and plans) reports, and how to reach it. */
export interface ProviderSettings {
  provider: ProviderName;
  /** Any OpenAI-compatible endpoint (or an Anthropic-compatible one); unset: the vendor's. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
}

export interface ChatRequest {
  system: string;
  user: string;
  maxTokens: number;
  signal: AbortSignal;
  /** Retries inside the SDK (429, 5xx, connection errors); the task engine retries too. */
  maxRetries?: number;
  /** Told the tokens the provider counted, once its stream has said (for metrics and cost). */
  onUsage?(usage: TokenUsage): void;
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
  ) {
    super(message);
  }
}

/** HTTP statuses worth retrying (the SDKs' own rule): timeouts, conflicts, rate limits, server errors. */
export const isRetryableStatus = (status: number | undefined) =>
  status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
