// planTopic: sections from the template's guide, the agent's taxonomy
// and search hits, or a default outline; deterministic; validated; rate-limited per user.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/schema/ids.js';
import { createRateLimiter } from '../../src/platform/rate-limit.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { redisAvailable } from '../utils/harness.js';
import { PLAN, CREATE_TEMPLATE, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, mintKey, configureLocal, plan } = t;

describe('planTopic', () => {
  it("derives ordered sections from the template's promptSystem, the same for the same input", async () => {
    const input = { topic: '  2025년 AI 에이전트 시장  ', templateId: t.guideTemplateId };
    const first = await plan(keys.alice!, input);
    const second = await plan(keys.alice!, input);
    expect(first.sections.map((s: any) => s.title)).toEqual([
      '개요',
      '시장 현황',
      '경쟁 구도',
      '결론 및 제언',
    ]);
    expect(first.sections.map((s: any) => s.order)).toEqual([1, 2, 3, 4]);
    // {{topic}} in the guide is the topic; an empty guide section still says what it covers.
    expect(first.sections[1].description).toBe('2025년 AI 에이전트 시장의 규모와 성장률.');
    expect(first.sections[3].description).toContain('결론 및 제언');
    expect(first).toMatchObject({ estimatedSectionsCount: 4, planner: 'local', fellBack: false });
    expect(first.topic).toMatchObject({
      status: 'PLANNED',
      topic: '2025년 AI 에이전트 시장',
      template: { id: t.guideTemplateId },
      agent: null,
    });
    expect(first.topic.plan).toBe(first.plan);
    expect(first.topic.sections).toEqual(first.sections);
    // Deterministic: same plan and sections, a new topic each time.
    expect(second.plan).toBe(first.plan);
    expect(second.sections).toEqual(first.sections);
    expect(second.topic.id).not.toBe(first.topic.id);
    expect(first.plan).toMatch(/^# 보고서 계획: 2025년 AI 에이전트 시장\n/);
    expect(first.plan).toContain('## 2. 시장 현황\n\n2025년 AI 에이전트 시장의 규모와 성장률.');
  });

  it('reads numbered-list guides, and falls back to a default outline without a template', async () => {
    const listGuide = await h.gql(
      CREATE_TEMPLATE,
      {
        input: {
          name: 'list',
          category: 'DOCS',
          content: 'x',
          isPublic: true,
          promptSystem:
            'Write a crisp report.\n\n1. Summary: the gist\n2. Risks - what can go wrong\n   - legal\n3. Next steps',
        },
      },
      keys.alice,
    );
    const fromList = await plan(keys.bob!, {
      topic: 'Remote work policy',
      templateId: listGuide.data!.createTemplate.id,
    });
    expect(fromList.sections).toEqual([
      { title: 'Summary', description: 'the gist', order: 1 },
      { title: 'Risks', description: 'what can go wrong legal', order: 2 },
      { title: 'Next steps', description: 'Next steps of Remote work policy.', order: 3 },
    ]);
    const plain = await plan(keys.bob!, { topic: 'Remote work policy' });
    expect(plain.sections.map((s: any) => s.title)).toEqual([
      'Overview',
      'Background and current state',
      'Key analysis',
      'Implications',
      'Conclusion and recommendations',
    ]);
    expect(plain.topic.template).toBeNull();
  });

  it("draws on the agent's taxonomy nodes and top search hits", async () => {
    const corpus = await createCorpus(h);
    const agent = await h.gql(CreateAgentMutation, {
      input: {
        name: 'Tech agent',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai, corpus.nodeIds.db],
      },
    });
    expect(agent.errors).toBeUndefined();
    const agentId = agent.data!.createAgentFromTaxonomy.id;
    const result = await plan(keys.bob!, { topic: 'Language models and embeddings', agentId });
    const titles = result.sections.map((s: any) => s.title);
    // The documents the search ranks first are classified under these nodes of the scope.
    expect(titles).toContain('Natural Language Processing');
    expect(titles[0]).toBe('Overview');
    expect(titles.at(-1)).toBe('Conclusion and recommendations');
    expect(result.plan).toContain('Knowledge agent: Tech agent');
    expect(result.plan).toMatch(/Sources: .*"(Embeddings for search|Transformers in practice)"/);
    expect(result.topic.agent).toEqual({ id: agentId });
    expect(
      await plan(keys.bob!, { topic: 'Language models and embeddings', agentId }),
    ).toMatchObject({ plan: result.plan, sections: result.sections });
  });

  it('rejects an empty or 201-character topic, and unknown or hidden templates and agents', async () => {
    const key = await mintKey('validator');
    for (const topic of ['', '   ', 'x'.repeat(201)]) {
      expect(errorCodes(await h.gql(PLAN, { input: { topic } }, key))).toEqual(['BAD_USER_INPUT']);
    }
    expect((await plan(key, { topic: '가'.repeat(200) })).topic.topic).toHaveLength(200);
    const unknownTemplate = toGlobalId('Template', '00000000-0000-0000-0000-000000000001');
    const unknownAgent = toGlobalId('Agent', '00000000-0000-0000-0000-000000000001');
    expect(
      errorCodes(await h.gql(PLAN, { input: { topic: 't', templateId: unknownTemplate } }, key)),
    ).toEqual(['NOT_FOUND']);
    expect(
      errorCodes(await h.gql(PLAN, { input: { topic: 't', agentId: unknownAgent } }, key)),
    ).toEqual(['NOT_FOUND']);
    expect(
      errorCodes(await h.gql(PLAN, { input: { topic: 't', agentId: 'not-an-id' } }, key)),
    ).toEqual(['NOT_FOUND']);
    // alice's template is private.
    expect(
      errorCodes(await h.gql(PLAN, { input: { topic: 't', templateId: t.guideTemplateId } }, key)),
    ).toEqual(['NOT_FOUND']);
  });

  it(`allows 10 plans a minute per user, the 11th is RATE_LIMITED with retryAfter (${redisAvailable ? 'Redis' : 'memory'} buckets)`, async () => {
    // The default limit (10 per minute per user).
    const { topicSettings: settings } = await h.configureLlm({
      redis: h.redisUrl,
      keyPrefix: `${h.pubsubPrefix}rl:`,
    });
    try {
      expect(settings.planLimiter.kind).toBe(redisAvailable ? 'redis' : 'memory');
      const key = await mintKey('hasty');
      const other = await mintKey('patient');
      for (let i = 0; i < 10; i++) await plan(key, { topic: `topic ${i}` });
      const limited = await h.gql(PLAN, { input: { topic: 'one too many' } }, key);
      expect(errorCodes(limited)).toEqual(['RATE_LIMITED']);
      const retryAfter = limited.errors![0]!.extensions!.retryAfter as number;
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
      // Per user: someone else still plans.
      await plan(other, { topic: 'unhurried' });
    } finally {
      await configureLocal();
    }
  });

  it.skipIf(!redisAvailable)(
    'shares the plan budget between API processes through Redis',
    async () => {
      const prefix = `${h.pubsubPrefix}shared-plan`;
      const processA = await createRateLimiter({
        points: 10,
        durationSeconds: 60,
        redis: h.redisUrl,
        keyPrefix: prefix,
      });
      const processB = await createRateLimiter({
        points: 10,
        durationSeconds: 60,
        redis: h.redisUrl,
        keyPrefix: prefix,
      });
      h.onCleanup(() => processA.close());
      h.onCleanup(() => processB.close());
      expect([processA.kind, processB.kind]).toEqual(['redis', 'redis']);
      for (let i = 0; i < 10; i++) await (i % 2 ? processA : processB).consume('user-1', 'plans');
      await expect(processA.consume('user-1', 'plans')).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      await expect(processB.consume('user-1', 'plans')).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      const redis = new Redis(h.redisUrl!);
      h.onCleanup(() => void redis.disconnect());
      expect(Number(await redis.get(`${prefix}:user-1`))).toBeGreaterThanOrEqual(11);
      expect(await redis.pttl(`${prefix}:user-1`)).toBeGreaterThan(0);
    },
  );
});
