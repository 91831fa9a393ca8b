// An OpenAI-compatible chat endpoint through the official `openai` SDK: OpenAI itself, or
// any server speaking its chat-completions API (a deployment's base URL), streamed. The
// SDK's own retries are off: the router's loop is the one retry loop.
import type OpenAI from 'openai';
import { ProviderError, type ChatClient } from '../../reports/writers/types.js';
import type { AdapterSettings, ProviderAdapter } from './adapter.js';
import { cutIfAnswered, sdkProviderError } from './http-errors.js';
import { loadedOnFirstCall, sdkClientOptions } from './sdk-loading.js';

const LABEL = 'openai';

export const openAiCompatible: ProviderAdapter = { label: LABEL, createChat: createOpenAiChat };

const sdk = loadedOnFirstCall(async () => (await import('openai')).default);

const providerError = (error: unknown, signal: AbortSignal) =>
  sdkProviderError(LABEL, sdk.loaded(), error, signal);

function createOpenAiChat(settings: AdapterSettings): ChatClient {
  let client: OpenAI | undefined;
  const made = (Sdk: typeof OpenAI) => (client ??= new Sdk(sdkClientOptions(settings)));
  return {
    name: LABEL,
    model: settings.model,
    async *streamChat({ system, user, maxTokens, signal, maxRetries, onUsage, onResponse }) {
      let finished = false;
      let answered = false;
      try {
        const { data: stream, response } = await made(sdk.loaded() ?? (await sdk.load()))
          .chat.completions.create(
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
            { signal, maxRetries: maxRetries ?? 0 },
          )
          .withResponse();
        answered = true;
        onResponse?.(response.status);
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const text = choice?.delta?.content;
          if (text) yield text;
          if (choice?.finish_reason) finished = true;
          if (chunk.usage) {
            finished = true;
            onUsage?.({
              inputTokens: chunk.usage.prompt_tokens,
              outputTokens: chunk.usage.completion_tokens,
            });
          }
        }
      } catch (error) {
        throw cutIfAnswered(providerError(error, signal), answered);
      }
      // No finish_reason and no usage: the stream ended before the model did.
      if (!finished)
        throw new ProviderError('openai: the stream ended before its end', true, undefined, {
          cut: true,
        });
    },
  };
}
