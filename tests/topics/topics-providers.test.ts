// The openai and anthropic providers against a real local HTTP server speaking their
// streaming formats, and the provider settings read from the environment.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { collect, sseClient } from '../utils/sse.js';
import { GENERATE, FEED, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, configureLocal, configureOpenAi, plan } = t;

describe('LLM providers against a local server', () => {
  it('openai: plans, streams every section into the report, and moves progress per section', async () => {
    await configureOpenAi();
    t.stub.reset();
    // Slow enough per section that each step is seen (progress is coalesced to ~4 writes/s).
    t.stub.behave({ headersDelayMs: 400 });
    try {
      const planned = await plan(keys.alice!, { topic: 'Streaming report' });
      expect(planned).toMatchObject({ planner: 'openai', fellBack: false });
      expect(planned.sections.map((s: any) => s.title)).toEqual([
        'Stub opening',
        'Stub middle',
        'Stub ending',
      ]);
      expect(t.stub.requests[0]).toMatchObject({
        api: 'openai',
        body: { model: 'stub-model', stream: true },
      });
      expect(t.stub.requests[0]!.headers.authorization).toBe('Bearer sk-stub');
      expect(t.stub.requests[0]!.user).toContain('Topic: Streaming report');

      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: keys.alice! });
      h.onCleanup(() => client.dispose());
      const feed = collect<any>(client, FEED, { topicId: planned.topic.id });
      await h.startWorker(t.app.pubsub);
      const events = (await feed).map((r) => r.data!.topicGeneration);
      // One event per step, besides the sections' streamed text (which repeats the step).
      const writing = events.filter(
        (e, i) =>
          e.currentStep?.startsWith('writing section') &&
          e.currentStep !== events[i - 1]?.currentStep,
      );
      expect(writing.map((e) => e.currentStep)).toEqual([
        'writing section 1 of 3: Stub opening',
        'writing section 2 of 3: Stub middle',
        'writing section 3 of 3: Stub ending',
      ]);
      expect(writing.map((e) => e.progressPercent)).toEqual([5, 32, 58]);
      const markdown: string = events.at(-1).artifact.markdown;
      for (const k of [1, 2, 3])
        expect(markdown).toContain(`STUB-SECTION-${k}-OF-3 streamed text about`);
      expect(markdown).toContain('A second paragraph, also streamed.');
      const sectionRequests = t.stub.requests.filter((r) => r.user.includes('Write section'));
      expect(sectionRequests).toHaveLength(3);
      expect(sectionRequests[1]!.user).toContain('Approved plan:\n# Stub plan');
    } finally {
      await configureLocal();
    }
  });

  it('openai: a planner that misses the budget falls back to the local planner, and says so', async () => {
    await configureOpenAi(200);
    t.stub.reset();
    t.stub.behave({ headersDelayMs: 1_000 });
    try {
      const result = await plan(keys.alice!, { topic: 'Impatient plan' });
      expect(result).toMatchObject({ planner: 'local', fellBack: true });
      expect(result.sections.map((s: any) => s.title)[0]).toBe('Overview');
      t.stub.behave({ headersDelayMs: 0, fail: { status: 500, message: 'overloaded' } });
      expect(await plan(keys.alice!, { topic: 'Broken planner' })).toMatchObject({
        planner: 'local',
        fellBack: true,
      });
    } finally {
      await configureLocal();
    }
  });

  it('anthropic: streams a section through the official SDK', async () => {
    const { createChatClient } = await import('../../src/llm/providers/index.js');
    t.stub.reset();
    const chat = createChatClient('ANTHROPIC', {
      baseUrl: t.stub.anthropicBaseUrl,
      apiKey: 'sk-ant-stub',
      model: 'claude-stub',
    });
    let text = '';
    for await (const delta of chat.streamChat({
      system: 's',
      user: 'Write section 2 of 5: Middle',
      maxTokens: 100,
      signal: new AbortController().signal,
    }))
      text += delta;
    expect(text).toBe(
      `STUB-SECTION-2-OF-5 streamed text about Middle.\n\nA second paragraph, also streamed.`,
    );
    expect(t.stub.requests[0]).toMatchObject({
      api: 'anthropic',
      path: '/v1/messages',
      body: { model: 'claude-stub', stream: true, max_tokens: 100 },
    });
    const { authorization, 'x-api-key': apiKey } = t.stub.requests[0]!.headers;
    expect([apiKey, authorization]).toContain(apiKey ? 'sk-ant-stub' : 'Bearer sk-ant-stub');
    t.stub.behave({ fail: { status: 400, message: 'model not found' } });
    const failing = (async () => {
      for await (const _ of chat.streamChat({
        system: 's',
        user: 'u',
        maxTokens: 10,
        signal: new AbortController().signal,
        maxRetries: 0,
      }));
    })();
    await expect(failing).rejects.toMatchObject({
      name: 'ProviderError',
      retryable: false,
      status: 400,
    });
  });
});

describe('configuration', () => {
  it('reads the provider, the plan budget and the plan rate limit, and refuses an incomplete LLM setup', () => {
    const defaults = loadConfig({});
    expect(defaults.llm).toMatchObject({
      provider: 'LOCAL',
      baseUrl: undefined,
      apiKey: undefined,
      model: undefined,
      attemptTimeoutMs: 30_000,
      prices: { inputPerMillionTokens: 0, outputPerMillionTokens: 0 },
    });
    expect(defaults.topics).toEqual({ planBudgetMs: 2_000, planRateLimitPerMinute: 10 });
    const openAi = loadConfig({
      LLM_PROVIDER: 'openai',
      LLM_BASE_URL: 'http://127.0.0.1:8000/v1',
      LLM_MODEL: 'qwen',
      LLM_PLAN_BUDGET_MS: '1500',
      LLM_ATTEMPT_TIMEOUT_MS: '5000',
      PLAN_RATE_LIMIT_PER_MINUTE: '30',
    });
    expect(openAi.llm).toMatchObject({
      provider: 'OPENAI_COMPATIBLE',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'qwen',
      attemptTimeoutMs: 5_000,
    });
    expect(openAi.topics).toEqual({ planBudgetMs: 1_500, planRateLimitPerMinute: 30 });
    expect(() => loadConfig({ LLM_PROVIDER: 'anthropic', LLM_MODEL: 'claude' })).toThrow(
      /LLM_API_KEY/,
    );
    expect(() => loadConfig({ LLM_PROVIDER: 'openai', LLM_API_KEY: 'sk' })).toThrow(/LLM_MODEL/);
    expect(() => loadConfig({ LLM_PROVIDER: 'mistral' })).toThrow(ConfigError);
    expect(() => loadConfig({ PLAN_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(
      /PLAN_RATE_LIMIT_PER_MINUTE/,
    );
  });
});
