// The text providers: `local` (deterministic, offline), or an LLM through its official SDK.
import { createAnthropicChat } from './anthropic.js';
import { createOpenAiChat } from './openai.js';
import type { ChatClient } from './types.js';

export * from './types.js';
export { localWriter } from './local.js';
export { llmWriter } from './llm.js';

export interface ChatClientSettings {
  provider: 'openai' | 'anthropic';
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string;
  /** The fetch the SDK uses; unset: the global one. */
  fetch?: typeof fetch;
}

/** A chat client of one deployment (its SDK's retries off: the caller retries). */
export function createChatClient(settings: ChatClientSettings): ChatClient {
  const { baseUrl, apiKey, model, fetch } = settings;
  return settings.provider === 'openai'
    ? createOpenAiChat({ baseUrl, apiKey, model, fetch })
    : createAnthropicChat({ baseUrl, apiKey: apiKey ?? 'not-needed', model, fetch });
}
