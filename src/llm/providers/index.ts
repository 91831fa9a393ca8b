// The provider kinds, one row each: adding a kind is its adapter file, its row here and its
// LlmProviderKind value (docs/llm.md "Adding a provider kind").
import type { LlmProviderKind } from '../../generated/prisma/enums.js';
import type { ChatClient } from '../../reports/writers/types.js';
import type { AdapterSettings, ProviderAdapter } from './adapter.js';
import { anthropic } from './anthropic.js';
import { openAiCompatible } from './openai.js';

export const PROVIDERS: Readonly<Record<LlmProviderKind, ProviderAdapter>> = {
  OPENAI_COMPATIBLE: openAiCompatible,
  ANTHROPIC: anthropic,
  LOCAL: { label: 'local' },
};

/** A chat client of one deployment of this kind. */
export function createChatClient(kind: LlmProviderKind, settings: AdapterSettings): ChatClient {
  const create = PROVIDERS[kind].createChat;
  if (!create) throw new Error(`a ${kind} deployment has no chat client`);
  return create(settings);
}
