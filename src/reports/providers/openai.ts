// An OpenAI-compatible chat endpoint through the official `openai` SDK: OpenAI itself, or
// any server speaking its chat-completions API (LLM_BASE_URL), streamed.
import OpenAI from 'openai';
import { isRetryableStatus, ProviderError, type ChatClient } from './types.js';

export interface OpenAiSettings {
  baseUrl?: string;
  apiKey?: string;
  model: string;
}

function providerError(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || error instanceof OpenAI.APIUserAbortError) return signal.reason ?? error;
  if (error instanceof OpenAI.APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    return new ProviderError(`openai: ${error.message}`, isRetryableStatus(status), status);
  }
  return error;
}

export function createOpenAiChat(settings: OpenAiSettings): ChatClient {
  // A local OpenAI-compatible server usually takes any key; the SDK insists on one.
  const client = new OpenAI({
    apiKey: settings.apiKey ?? 'not-needed',
    baseURL: settings.baseUrl,
    timeout: 120_000,
  });
  return {
    name: 'openai',
    model: settings.model,
    async *streamChat({ system, user, maxTokens, signal, maxRetries, onUsage }) {
      try {
        const stream = await client.chat.completions.create(
          {
            model: settings.model,
            stream: true,
            // The last chunk then carries the usage (and no choices).
            stream_options: { include_usage: true },
            max_tokens: maxTokens,
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: user },
            ],
          },
          { signal, maxRetries },
        );
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content;
          if (text) yield text;
          if (chunk.usage)
            onUsage?.({
              inputTokens: chunk.usage.prompt_tokens,
              outputTokens: chunk.usage.completion_tokens,
            });
        }
      } catch (error) {
        throw providerError(error, signal);
      }
    },
  };
}
