// Anthropic's Messages API through the official `@anthropic-ai/sdk`, streamed. The SDK's
// own retries are off: the router's loop is the one retry loop.
import type Anthropic from '@anthropic-ai/sdk';
import { ProviderError, type ChatClient } from '../../reports/writers/types.js';
import type { AdapterSettings, ProviderAdapter } from './adapter.js';
import { cutIfAnswered, sdkProviderError } from './http-errors.js';
import { loadedOnFirstCall, sdkClientOptions } from './sdk-loading.js';

const LABEL = 'anthropic';

export const anthropic: ProviderAdapter = { label: LABEL, createChat: createAnthropicChat };

const sdk = loadedOnFirstCall(async () => (await import('@anthropic-ai/sdk')).default);

const providerError = (error: unknown, signal: AbortSignal) =>
  sdkProviderError(LABEL, sdk.loaded(), error, signal);

function createAnthropicChat(settings: AdapterSettings): ChatClient {
  let client: Anthropic | undefined;
  const made = (Sdk: typeof Anthropic) => (client ??= new Sdk(sdkClientOptions(settings)));
  return {
    name: LABEL,
    model: settings.model,
    async *streamChat({ system, user, maxTokens, signal, maxRetries, onUsage, onResponse }) {
      let stopped = false;
      let answered = false;
      // message_start counts the input, message_delta the output so far (Messages streaming).
      const usage = { inputTokens: 0, outputTokens: 0 };
      try {
        const { data: stream, response } = await made(sdk.loaded() ?? (await sdk.load()))
          .messages.create(
            {
              model: settings.model,
              max_tokens: maxTokens,
              system,
              messages: [{ role: 'user', content: user }],
              stream: true,
            },
            { signal, maxRetries: maxRetries ?? 0 },
          )
          .withResponse();
        answered = true;
        onResponse?.(response.status);
        for await (const event of stream) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
            yield event.delta.text;
          else if (event.type === 'message_start')
            usage.inputTokens = event.message.usage.input_tokens;
          else if (event.type === 'message_delta') usage.outputTokens = event.usage.output_tokens;
          else if (event.type === 'message_stop') stopped = true;
        }
        if (stopped && (usage.inputTokens || usage.outputTokens)) onUsage?.(usage);
      } catch (error) {
        // A stream cut after message_start still counted its input (and output so far).
        if (usage.inputTokens || usage.outputTokens) onUsage?.(usage);
        throw cutIfAnswered(providerError(error, signal), answered);
      }
      if (!stopped)
        throw new ProviderError('anthropic: the stream ended before its end', true, undefined, {
          cut: true,
        });
    },
  };
}
