// Anthropic's Messages API through the official `@anthropic-ai/sdk`, streamed.
import Anthropic from '@anthropic-ai/sdk';
import { isRetryableStatus, ProviderError, type ChatClient } from './types.js';

export interface AnthropicSettings {
  baseUrl?: string;
  apiKey: string;
  model: string;
}

function providerError(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || error instanceof Anthropic.APIUserAbortError) return signal.reason ?? error;
  if (error instanceof Anthropic.APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    return new ProviderError(`anthropic: ${error.message}`, isRetryableStatus(status), status);
  }
  return error;
}

export function createAnthropicChat(settings: AnthropicSettings): ChatClient {
  const client = new Anthropic({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl,
    timeout: 120_000,
  });
  return {
    name: 'anthropic',
    model: settings.model,
    async *streamChat({ system, user, maxTokens, signal, maxRetries, onUsage }) {
      try {
        const stream = await client.messages.create(
          {
            model: settings.model,
            max_tokens: maxTokens,
            system,
            messages: [{ role: 'user', content: user }],
            stream: true,
          },
          { signal, maxRetries },
        );
        // message_start counts the input, message_delta the output so far (Messages streaming).
        const usage = { inputTokens: 0, outputTokens: 0 };
        for await (const event of stream) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
            yield event.delta.text;
          else if (event.type === 'message_start')
            usage.inputTokens = event.message.usage.input_tokens;
          else if (event.type === 'message_delta') usage.outputTokens = event.usage.output_tokens;
        }
        onUsage?.(usage);
      } catch (error) {
        throw providerError(error, signal);
      }
    },
  };
}
