// The configured text provider: `local` (default), or an LLM through its official SDK.
import { createAnthropicChat } from './anthropic.js';
import { llmWriter } from './llm.js';
import { localWriter } from './local.js';
import { createOpenAiChat } from './openai.js';
import type { ChatClient, ProviderSettings, ReportWriter } from './types.js';

export * from './types.js';
export { localWriter } from './local.js';

export interface Providers {
  writer: ReportWriter;
  /** The LLM behind the writer (and the planner); undefined for `local`. */
  chat: ChatClient | undefined;
}

export function createProviders(settings: ProviderSettings): Providers {
  let chat: ChatClient | undefined;
  switch (settings.provider) {
    case 'local':
      return { writer: localWriter, chat: undefined };
    case 'openai':
      chat = createOpenAiChat({
        baseUrl: settings.baseUrl,
        apiKey: settings.apiKey,
        model: settings.model!,
      });
      break;
    case 'anthropic':
      chat = createAnthropicChat({
        baseUrl: settings.baseUrl,
        apiKey: settings.apiKey!,
        model: settings.model!,
      });
      break;
  }
  return { writer: llmWriter(chat), chat };
}
