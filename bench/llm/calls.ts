// What the LLM bench's parts share: the request, a call drained to its end, the streams in
// flight (CONCURRENCY; bench/stats.ts's burst runs them), and the operator's deployments and
// WRITE route it points at the stubs.
import { db } from '../../src/platform/db.js';
import type { ChatClient } from '../../src/reports/writers/types.js';
import type { LlmGateway } from '../../src/llm/gateway.js';

export const CONCURRENCY = 64;
const REQUEST = { system: 's', user: 'Write section 1 of 1: Bench', maxTokens: 200 };

export async function drain(
  chat: ChatClient,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const started = performance.now();
  for await (const _ of chat.streamChat({
    ...REQUEST,
    signal: new AbortController().signal,
    ...extra,
  }));
  return performance.now() - started;
}

export async function deployment(name: string, baseUrl: string, prices = true): Promise<string> {
  const row = await db().llmDeployment.create({
    data: {
      name,
      kind: 'OPENAI_COMPATIBLE',
      baseUrl,
      model: 'bench-model',
      inputUsdPerMTok: prices ? 1 : null,
      outputUsdPerMTok: prices ? 2 : null,
    },
  });
  return row.id;
}

export async function route(
  settings: LlmGateway,
  strategy: 'PRIORITY' | 'LOWEST_LATENCY',
  ids: string[],
) {
  await db().llmRoute.deleteMany({ where: { teamId: null, service: 'WRITE' } });
  await db().llmRoute.create({
    data: {
      service: 'WRITE',
      strategy,
      deploymentIds: ids,
      maxAttempts: 3,
      fallbackToLocal: false,
    },
  });
  settings.catalog.forget();
}
