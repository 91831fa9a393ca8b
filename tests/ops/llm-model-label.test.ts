// The llm_* families' `model` label is bounded (src/llm/model-label.ts): a
// deployment's model is text a team ADMIN chooses, so only model-like ids, and only the first
// MAX_MODEL_LABELS of them, become series; the rest are `other`. Our own code on a real
// prom-client Registry: no database involved.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MAX_MODEL_LABELS } from '../../src/llm/model-label.js';
import { createServiceMetrics } from '../../src/services/metrics.js';

function llmCalls() {
  const registry = new Registry();
  const { llm } = createServiceMetrics(registry);
  const call = (model: string) =>
    llm.record({
      provider: 'openai',
      model,
      service: 'plan',
      outcome: 'ok',
      seconds: 0.1,
      firstTokenSeconds: 0.05,
      usage: { inputTokens: 3, outputTokens: 5 },
      costUsd: 0.001,
    });
  /** llm_requests_total by model label. */
  const byModel = async () => {
    const family = (await registry.getMetricsAsJSON()).find(
      (metric) => metric.name === 'llm_requests_total',
    )!;
    return new Map(family.values.map((value) => [String(value.labels.model), value.value]));
  };
  return { call, byModel };
}

describe('the llm_* model label', () => {
  it('keeps model ids and makes free text, URLs and overlong names `other`', async () => {
    const { call, byModel } = llmCalls();
    for (const model of [
      'gpt-4o-mini',
      'llama3.1:8b',
      'meta-llama/Llama-3.1-8B-Instruct',
      'our team model for Alice',
      'gpt 4o',
      'https://models.example.com/gpt',
      `m${'x'.repeat(64)}`,
      '-leading-dash',
    ])
      call(model);
    expect(Object.fromEntries(await byModel())).toEqual({
      'gpt-4o-mini': 1,
      'llama3.1:8b': 1,
      'meta-llama/Llama-3.1-8B-Instruct': 1,
      other: 5,
    });
  });

  it(`keeps the first ${MAX_MODEL_LABELS} distinct models; the next is \`other\``, async () => {
    const { call, byModel } = llmCalls();
    for (let i = 0; i < MAX_MODEL_LABELS; i++) call(`model-${i}`);
    call(`model-${MAX_MODEL_LABELS}`);
    call('model-0'); // one it kept stays labelled
    const counts = await byModel();
    expect(counts.size).toBe(MAX_MODEL_LABELS + 1);
    expect(counts.get('model-0')).toBe(2);
    expect(counts.get(`model-${MAX_MODEL_LABELS - 1}`)).toBe(1);
    expect(counts.has(`model-${MAX_MODEL_LABELS}`)).toBe(false);
    expect(counts.get('other')).toBe(1);
  });
});
