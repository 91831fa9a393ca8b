// The configured text provider: `local` (default), or an LLM through its official SDK.
import type { ReportsConfig } from '../../config.js';
import { createAnthropicChat } from './anthropic.js';
import { llmWriter } from './llm.js';
import { localWriter } from './local.js';
import { createOpenAiChat } from './openai.js';
import type { ChatClient, ReportWriter } from './types.js';

export * from './types.js';
export { localWriter } from './local.js';

export interface Providers {
  writer: ReportWriter;
  /** The LLM behind the writer (and the planner); undefined for `local`. */
  chat: ChatClient | undefined;
}

export function createProviders(config: Pick<ReportsConfig, 'provider' | 'baseUrl' | 'apiKey' | 'model'>): Providers {
  let chat: ChatClient | undefined;
  switch (config.provider) {
    case 'local':
      return { writer: localWriter, chat: undefined };
    case 'openai':
      chat = createOpenAiChat({ baseUrl: config.baseUrl, apiKey: config.apiKey, model: config.model! });
      break;
    case 'anthropic':
      chat = createAnthropicChat({ baseUrl: config.baseUrl, apiKey: config.apiKey!, model: config.model! });
      break;
  }
  return { writer: llmWriter(chat), chat };
}
