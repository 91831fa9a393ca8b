// What every topic test file starts from: the harness with no worker
// outliving its test, the local provider with plan buckets in Redis, an LLM stub server,
// keys for alice and bob, and alice's private template whose promptSystem guides the plan.
import { afterEach, beforeAll, expect } from 'vitest';
import { parseMarkdownBlocks } from '../../src/reports/export/index.js';
import { CreateApiKeyMutation } from '../client/operations.js';
import { redisAvailable, useHarness, type Harness, type TestApp } from '../utils/harness.js';
import { startLlmStub, stubProvider, type LlmStub } from '../utils/llm-stub.js';
import { waitFor } from '../utils/wait.js';

export const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) {
  plan sections { title description order } estimatedSectionsCount planner fellBack
  topic { id status topic plan sections { title description order } template { id } agent { id } } } }`;
export const GENERATE = `mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) {
  id status progressPercent currentStep startedAt estimatedCompletion sections { title order } task { id type status topic { id } } } }`;
export const TOPIC = `query($id: ID!) { topic(id: $id) {
  id status progressPercent currentStep startedAt estimatedCompletion completedAt errorMessage plan sections { title order }
  artifact { id format markdown createdAt downloads { format url bytes contentType filename } } task { id status } } }`;
export const FEED = `subscription($topicId: ID!) { topicGeneration(topicId: $topicId) {
  event status progressPercent currentStep errorMessage artifact { id markdown downloads { format url bytes } } topic { id status } } }`;
export const CREATE_TEMPLATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }`;

const GUIDE = `# 시장 분석 보고서 작성 가이드

다음 구조를 따른다.

## 개요
보고서의 목적과 범위.

## 시장 현황
{{topic}}의 규모와 성장률.

## 경쟁 구도
주요 기업과 점유율.

## 결론 및 제언
`;

/** ArtifactFile.url without its signature: the path the API-key way downloads from. */
export const unsignedPath = (url: string) => new URL(url, 'http://api.invalid').pathname;

export const fromGlobal = (globalId: string) =>
  Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

/** Expected text of a report as a document shows it: one line per block. */
export function documentLines(markdown: string): string[] {
  return parseMarkdownBlocks(markdown).map((block) =>
    block.type === 'listItem'
      ? `${block.ordered ? `${block.number}.` : '●'} ${block.text}`
      : block.type === 'code'
        ? block.lines.join('\n')
        : block.text,
  );
}

export interface TopicsFixture {
  h: Harness;
  /** Set in beforeAll, like the three below. */
  app: TestApp;
  stub: LlmStub;
  guideTemplateId: string;
  /** API keys of alice and bob. */
  keys: Record<string, string>;
}

/** The harness and the topic fixture of one test file; call it once, at the top. */
export function useTopics() {
  const h = useHarness();
  afterEach(() => h.stopWorkers());
  const t = { h, keys: {} } as TopicsFixture;

  async function mintKey(user: string): Promise<string> {
    const minted = await h.gql(CreateApiKeyMutation, {
      input: { user, name: 'k', scopes: ['WRITE'] },
    });
    expect(minted.errors).toBeUndefined();
    return minted.data!.createApiKey.key;
  }

  /**
   * Local provider, plan buckets in Redis when REDIS_URL is set (as every API process would
   * share them). The limit is raised for the other tests; the rate-limit test sets 10 again.
   */
  function configureLocal(planRateLimitPerMinute = 1_000, keyPrefix = h.pubsubPrefix) {
    return h.configureLlm({ planRateLimitPerMinute, redis: h.redisUrl, keyPrefix });
  }

  function configureOpenAi(planBudgetMs = 2_000) {
    return h.configureLlm({
      llm: { ...stubProvider(t.stub) },
      planBudgetMs,
      keyPrefix: h.pubsubPrefix,
    });
  }

  async function plan(key: string, input: Record<string, unknown>) {
    const response = await h.gql(PLAN, { input }, key);
    expect(response.errors).toBeUndefined();
    return response.data!.planTopic;
  }

  async function topicOf(id: string, key: string) {
    return (await h.gql(TOPIC, { id }, key)).data!.topic;
  }

  const waitForTopic = (id: string, key: string, status: string) =>
    waitFor(async () => {
      const topic = await topicOf(id, key);
      return topic?.status === status ? topic : undefined;
    }, `topic ${status}`);

  async function download(url: string, key: string | null) {
    return fetch(new URL(url, t.app.baseUrl), { headers: key ? { 'x-api-key': key } : {} });
  }

  beforeAll(async () => {
    t.app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
    await configureLocal();
    t.stub = await startLlmStub();
    h.onCleanup(() => t.stub.close());
    for (const user of ['alice', 'bob']) t.keys[user] = await mintKey(user);
    const created = await h.gql(
      CREATE_TEMPLATE,
      { input: { name: '시장 분석', category: 'RESEARCH', content: 'x', promptSystem: GUIDE } },
      t.keys.alice,
    );
    expect(created.errors).toBeUndefined();
    t.guideTemplateId = created.data!.createTemplate.id;
  });

  return Object.assign(t, {
    mintKey,
    configureLocal,
    configureOpenAi,
    plan,
    topicOf,
    waitForTopic,
    download,
  });
}
