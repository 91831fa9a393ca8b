// Topics and reports (seed 004, SPEC C6): plan (deterministic, guided by the template,
// rate-limited), generate in the background (CONFLICT while generating), follow it over
// graphql-sse (several subscribers, a late one), download the exported files, fail
// cleanly, keep every topic private to its owner; the openai and anthropic providers
// against a real local HTTP server speaking their streaming formats.
import { HwpxReader } from '@ssabrojs/hwpxjs';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { db } from '../../src/platform/db.js';
import { parseMarkdownBlocks } from '../../src/reports/export/index.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { createRateLimiter } from '../../src/platform/rate-limit.js';
import { createAppFeeds } from '../../src/http/feeds.js';
import { LOCAL_REPORTS } from '../../src/resolvers/topics/settings.js';
import { localWriter, type ReportWriter } from '../../src/reports/providers/index.js';
import { reportGenerationTask } from '../../src/workers/tasks/report-generation.js';
import { logger } from '../../src/platform/logger.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { CreateAgentMutation, CreateApiKeyMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { startLlmStub, type LlmStub } from '../utils/llm-stub.js';
import { collect, listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) {
  plan sections { title description order } estimatedSectionsCount planner fellBack
  topic { id status topic plan sections { title description order } template { id } agent { id } } } }`;
const GENERATE = `mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) {
  id status progressPercent currentStep startedAt estimatedCompletion sections { title order } task { id type status topic { id } } } }`;
const TOPIC = `query($id: ID!) { topic(id: $id) {
  id status progressPercent currentStep startedAt estimatedCompletion completedAt errorMessage plan sections { title order }
  artifact { id format markdown createdAt downloads { format url bytes contentType filename } } task { id status } } }`;
const FEED = `subscription($topicId: ID!) { topicGeneration(topicId: $topicId) {
  event status progressPercent currentStep errorMessage artifact { id markdown downloads { format url bytes } } topic { id status } } }`;
const CREATE_TEMPLATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }`;

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

const LOCAL = LOCAL_REPORTS;

let app: TestApp;
let stub: LlmStub;
let guideTemplateId: string;
const keys: Record<string, string> = {};

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
  return h.configureTopics({
    reports: { ...LOCAL, planRateLimitPerMinute },
    redisUrl: h.redisUrl,
    keyPrefix,
  });
}

function configureOpenAi(planBudgetMs = 2_000) {
  return h.configureTopics({
    reports: {
      provider: 'openai',
      baseUrl: stub.openaiBaseUrl,
      apiKey: 'sk-stub',
      model: 'stub-model',
      planBudgetMs,
    },
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

beforeAll(async () => {
  app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
  await configureLocal();
  stub = await startLlmStub();
  h.onCleanup(() => stub.close());
  for (const user of ['alice', 'bob']) keys[user] = await mintKey(user);
  const created = await h.gql(
    CREATE_TEMPLATE,
    { input: { name: '시장 분석', category: 'RESEARCH', content: 'x', promptSystem: GUIDE } },
    keys.alice,
  );
  expect(created.errors).toBeUndefined();
  guideTemplateId = created.data!.createTemplate.id;
});

describe('planTopic', () => {
  it("derives ordered sections from the template's promptSystem, the same for the same input", async () => {
    const input = { topic: '  2025년 AI 에이전트 시장  ', templateId: guideTemplateId };
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
      template: { id: guideTemplateId },
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
      errorCodes(await h.gql(PLAN, { input: { topic: 't', templateId: guideTemplateId } }, key)),
    ).toEqual(['NOT_FOUND']);
  });

  it(`allows 10 plans a minute per user, the 11th is RATE_LIMITED with retryAfter (${redisAvailable ? 'Redis' : 'memory'} buckets)`, async () => {
    // The default limit (seed 004: 10 per minute per user).
    const settings = await h.configureTopics({
      reports: LOCAL,
      redisUrl: h.redisUrl,
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
        redisUrl: h.redisUrl,
        keyPrefix: prefix,
      });
      const processB = await createRateLimiter({
        points: 10,
        durationSeconds: 60,
        redisUrl: h.redisUrl,
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

/** Expected text of a report as a document shows it: one line per block. */
function documentLines(markdown: string): string[] {
  return parseMarkdownBlocks(markdown).map((block) =>
    block.type === 'listItem'
      ? `${block.ordered ? `${block.number}.` : '●'} ${block.text}`
      : block.type === 'code'
        ? block.lines.join('\n')
        : block.text,
  );
}

async function download(url: string, key: string | null) {
  return fetch(new URL(url, app.baseUrl), { headers: key ? { 'x-api-key': key } : {} });
}

describe('generateTopicReport', () => {
  it('returns GENERATING at once, CONFLICTs while generating, and every subscriber gets the completion', async () => {
    const planned = await plan(keys.alice!, {
      topic: '생성형 AI 도입 전략',
      templateId: guideTemplateId,
    });
    const topicId = planned.topic.id;
    const generated = await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, keys.alice);
    expect(generated.errors).toBeUndefined();
    const topic = generated.data!.generateTopicReport;
    expect(topic).toMatchObject({
      id: topicId,
      status: 'GENERATING',
      progressPercent: 0,
      currentStep: 'queued',
      task: { type: 'report_generation', status: 'PENDING', topic: { id: topicId } },
    });
    expect(topic.startedAt).toBeTruthy();
    expect(Date.parse(topic.estimatedCompletion)).toBeGreaterThan(Date.parse(topic.startedAt) - 1);
    // A second request while one is generating (seed 004 TC-GEN-002).
    expect(
      errorCodes(await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, keys.alice)),
    ).toEqual(['CONFLICT']);

    // Two subscribers (both graphql-sse modes) before the worker starts.
    const followers = await Promise.all(
      [false, true].map(async (singleConnection) => {
        const client = sseClient({
          url: `${app.baseUrl}/graphql/stream`,
          key: keys.alice!,
          singleConnection,
        });
        h.onCleanup(() => client.dispose());
        const events: any[] = [];
        const { done } = listen<any>(client, FEED, { topicId }, (value) =>
          events.push(value.data?.topicGeneration ?? value),
        );
        await waitFor(async () => events.length > 0, 'the current state');
        return { events, done };
      }),
    );
    await h.startWorker(app.pubsub);
    await Promise.all(followers.map((f) => f.done));
    for (const { events } of followers) {
      expect(events[0]).toMatchObject({ event: 'status_update', status: 'GENERATING' });
      const last = events.at(-1);
      expect(last).toMatchObject({
        event: 'completion',
        status: 'COMPLETED',
        progressPercent: 100,
        errorMessage: null,
        topic: { id: topicId, status: 'COMPLETED' },
      });
      expect(last.artifact.markdown).toContain('# 생성형 AI 도입 전략');
      expect(events.filter((e) => e.event === 'completion')).toHaveLength(1);
      const progress = events.map((e) => e.progressPercent);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    }
    // A subscriber that joins after the end gets the completion at once, and the stream ends.
    const late = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: keys.alice! });
    h.onCleanup(() => late.dispose());
    const lateEvents = (await collect<any>(late, FEED, { topicId })).map(
      (r) => r.data!.topicGeneration,
    );
    expect(lateEvents).toMatchObject([{ event: 'completion', status: 'COMPLETED' }]);

    const done = await topicOf(topicId, keys.alice!);
    expect(done).toMatchObject({
      status: 'COMPLETED',
      progressPercent: 100,
      currentStep: 'completed',
      errorMessage: null,
      task: { status: 'COMPLETED' },
    });
    expect(done.completedAt).toBeTruthy();
    expect(done.artifact.format).toBe('markdown');
    const markdown: string = done.artifact.markdown;
    expect(markdown.match(/^## /gm)).toHaveLength(4);
    expect(markdown).toContain('## 2. 시장 현황');
    expect(done.artifact.downloads.map((d: any) => d.format)).toEqual(['markdown', 'hwpx', 'docx']);

    // The HWPX over HTTP, with the owner's key: read back with the same text as the Markdown.
    const hwpxFile = done.artifact.downloads.find((d: any) => d.format === 'hwpx');
    const response = await download(hwpxFile.url, keys.alice!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/hwp+zip');
    const disposition = response.headers.get('content-disposition')!;
    expect(disposition).toContain('attachment; filename="report.hwpx"');
    expect(disposition).toContain(
      `filename*=UTF-8''${encodeURIComponent('생성형-ai-도입-전략.hwpx')}`,
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.byteLength).toBe(hwpxFile.bytes);
    const reader = new HwpxReader();
    await reader.loadFromArrayBuffer(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const squash = (s: string) => s.replace(/\s+/g, '');
    expect(squash(await reader.extractText())).toBe(squash(documentLines(markdown).join('\n')));
    const md = await download(done.artifact.downloads[0].url, keys.alice!);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await md.text()).toBe(markdown);
    // Someone else, or no key at all: 404.
    expect((await download(hwpxFile.url, keys.bob!)).status).toBe(404);
    expect((await download(hwpxFile.url, null)).status).toBe(404);
  });

  it('moves through the steps on the task and the topic, and an edited plan gives the sections', async () => {
    const planned = await plan(keys.alice!, {
      topic: 'Quarterly review',
      templateId: guideTemplateId,
    });
    const edited = '# My plan\n\n## Wins\nWhat went well.\n\n## Misses\nWhat did not.\n';
    const generated = (
      await h.gql(GENERATE, { input: { topicId: planned.topic.id, plan: edited } }, keys.alice)
    ).data!.generateTopicReport;
    expect(generated.sections).toEqual([
      { title: 'Wins', order: 1 },
      { title: 'Misses', order: 2 },
    ]);
    await h.startWorker(app.pubsub);
    const done = await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
    expect(done.plan).toBe(edited.trim());
    expect(done.artifact.markdown).toMatch(/## 1\. Wins[\s\S]*## 2\. Misses/);
    const events = await db().taskEvent.findMany({
      where: {
        taskId: (
          await db().topic.findUniqueOrThrow({ where: { id: fromGlobal(planned.topic.id) } })
        ).taskId!,
      },
      orderBy: { sequence: 'asc' },
    });
    const steps = events.map((e) => e.currentStep);
    expect(steps[0]).toBe('queued');
    expect(steps.at(-1)).toBe('completed');
    expect(events.at(-1)!.progressPercent).toBe(100);
    // Coalesced at the source, but the first and the last step of the run always land.
    expect(steps).toContain('starting');
    expect(steps.indexOf('starting')).toBeLessThan(steps.indexOf('completed'));
    // An empty plan is refused; a plan without sections too.
    expect(
      errorCodes(
        await h.gql(GENERATE, { input: { topicId: planned.topic.id, plan: '  ' } }, keys.alice),
      ),
    ).toEqual(['BAD_USER_INPUT']);
    expect(
      errorCodes(
        await h.gql(
          GENERATE,
          { input: { topicId: planned.topic.id, plan: 'just words' } },
          keys.alice,
        ),
      ),
    ).toEqual(['BAD_USER_INPUT']);
  });

  it('replaces the artifact of a run that runs again instead of adding one', async () => {
    const planned = await plan(keys.alice!, { topic: 'Idempotent report' });
    await h.gql(GENERATE, { input: { topicId: planned.topic.id, plan: planned.plan } }, keys.alice);
    await h.startWorker(app.pubsub);
    const done = await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
    const topicId = fromGlobal(planned.topic.id);
    const row = await db().topic.findUniqueOrThrow({ where: { id: topicId } });
    const before = await db().artifact.findMany({ where: { topicId } });
    expect(before.map((a) => a.id)).toEqual([row.taskId]);
    // The worker died after saving, before recording the end: the same task runs again.
    await db().topic.update({ where: { id: topicId }, data: { status: 'GENERATING' } });
    const task = await db().task.findUniqueOrThrow({ where: { id: row.taskId! } });
    await reportGenerationTask(h.topicSettings).run(
      { topicId },
      {
        task: task as never,
        logger,
        signal: new AbortController().signal,
        reportProgress: () => {},
        pubsub: app.pubsub,
      },
    );
    const after = await db().artifact.findMany({ where: { topicId } });
    expect(after.map((a) => a.id)).toEqual([row.taskId]);
    expect(await db().artifactFile.count({ where: { artifactId: row.taskId! } })).toBe(3);
    expect(after[0]!.markdown).toBe(done.artifact.markdown);
    expect((await topicOf(planned.topic.id, keys.alice!)).status).toBe('COMPLETED');
  });

  it('fails the topic with the error when the provider refuses, and says so to subscribers', async () => {
    await configureOpenAi();
    stub.reset();
    try {
      const planned = await plan(keys.alice!, { topic: 'Doomed report' });
      stub.behave({ fail: { status: 401, message: 'Incorrect API key provided' } });
      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: keys.alice! });
      h.onCleanup(() => client.dispose());
      const feed = collect<any>(client, FEED, { topicId: planned.topic.id });
      await h.startWorker(app.pubsub);
      const events = (await feed).map((r) => r.data!.topicGeneration);
      expect(events.at(-1)).toMatchObject({
        event: 'completion',
        status: 'FAILED',
        artifact: null,
      });
      expect(events.at(-1).errorMessage).toContain('Incorrect API key provided');
      const failed = await topicOf(planned.topic.id, keys.alice!);
      expect(failed).toMatchObject({
        status: 'FAILED',
        currentStep: 'failed',
        artifact: null,
        task: { status: 'FAILED' },
      });
      expect(failed.errorMessage).toMatch(/^report generation failed: openai: 401/);
      // Not retried: a bad key stays bad.
      expect(stub.requests.filter((r) => r.user.includes('Write section'))).toHaveLength(1);
      // A failed topic can be generated again.
      stub.behave({ fail: undefined });
      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      expect(
        (await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED')).errorMessage,
      ).toBeNull();
    } finally {
      await configureLocal();
    }
  });

  it('retries a transient failure and completes; exhausted retries fail the topic', async () => {
    let calls = 0;
    const flaky: ReportWriter = {
      name: 'local',
      async *writeSection(request, signal) {
        if (request.section.order === 2 && ++calls === 1)
          throw new Error('provider overloaded (transient)');
        yield* localWriter.writeSection(request, signal);
      },
    };
    await h.configureTopics({ reports: LOCAL, keyPrefix: h.pubsubPrefix, writer: flaky });
    try {
      const planned = await plan(keys.alice!, { topic: 'Flaky provider' });
      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      await h.startWorker(app.pubsub);
      const done = await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
      const task = await db().task.findUniqueOrThrow({
        where: {
          id: (await db().topic.findUniqueOrThrow({ where: { id: fromGlobal(planned.topic.id) } }))
            .taskId!,
        },
      });
      expect(task).toMatchObject({ status: 'COMPLETED', attempts: 2 });
      expect(done.errorMessage).toBeNull();

      const always: ReportWriter = {
        name: 'local',
        // eslint-disable-next-line require-yield -- a provider that fails before its first paragraph
        async *writeSection() {
          throw new Error('provider overloaded (transient)');
        },
      };
      await h.configureTopics({ reports: LOCAL, keyPrefix: h.pubsubPrefix, writer: always });
      const doomed = await plan(keys.alice!, { topic: 'Always overloaded' });
      await h.gql(GENERATE, { input: { topicId: doomed.topic.id, plan: doomed.plan } }, keys.alice);
      // The topic fails in the last attempt; the task row turns DEAD right after it.
      const failed = await waitFor(async () => {
        const topic = await topicOf(doomed.topic.id, keys.alice!);
        return topic?.status === 'FAILED' && topic.task?.status === 'DEAD' ? topic : undefined;
      }, 'the topic FAILED and its task DEAD');
      expect(failed).toMatchObject({
        errorMessage: 'report generation failed: provider overloaded (transient)',
        task: { status: 'DEAD' },
      });
    } finally {
      await configureLocal();
    }
  });

  it('fails the topic when its task is cancelled, running or still pending', async () => {
    const running = await plan(keys.alice!, { topic: 'Cancelled while running' });
    const pending = await plan(keys.alice!, { topic: 'Cancelled while pending' });
    // A slow model, so the cancel finds the task writing.
    await configureOpenAi();
    stub.reset();
    stub.behave({ chunkDelayMs: 100 });
    try {
      const runningTask = (
        await h.gql(
          GENERATE,
          { input: { topicId: running.topic.id, plan: running.plan } },
          keys.alice,
        )
      ).data!.generateTopicReport.task;
      await h.startWorker(app.pubsub);
      await waitFor(
        async () =>
          (await topicOf(running.topic.id, keys.alice!)).currentStep?.startsWith('writing section'),
        'writing',
      );
      expect(
        errorCodes(
          await h.gql(
            `mutation($id: ID!) { cancelTask(id: $id) { id } }`,
            { id: runningTask.id },
            keys.alice,
          ),
        ),
      ).toEqual([]);
      const cancelled = await waitForTopic(running.topic.id, keys.alice!, 'FAILED');
      expect(cancelled).toMatchObject({
        errorMessage: 'generation cancelled',
        task: { status: 'CANCELLED' },
      });
      await h.stopWorkers();

      const pendingTask = (
        await h.gql(
          GENERATE,
          { input: { topicId: pending.topic.id, plan: pending.plan } },
          keys.alice,
        )
      ).data!.generateTopicReport.task;
      await h.gql(
        `mutation($id: ID!) { cancelTask(id: $id) { id } }`,
        { id: pendingTask.id },
        keys.alice,
      );
      expect(await topicOf(pending.topic.id, keys.alice!)).toMatchObject({
        status: 'FAILED',
        errorMessage: 'generation cancelled',
      });
    } finally {
      await configureLocal();
    }
  });
});

const fromGlobal = (globalId: string) =>
  Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

describe('topicGeneration', () => {
  it('streams the current state of a planned topic, and lets go of the topic at once when its follower leaves', async () => {
    const planned = await plan(keys.alice!, { topic: 'Watched but never generated' });
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: keys.alice! });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const { unsubscribe } = listen<any>(client, FEED, { topicId: planned.topic.id }, (value) =>
      events.push(value.data!.topicGeneration),
    );
    await waitFor(async () => events.length > 0, 'the current state');
    expect(events).toMatchObject([
      { event: 'status_update', status: 'PLANNED', progressPercent: 0, artifact: null },
    ]);
    unsubscribe();
    // The feed itself: no change is coming for this topic, and return() still ends it at once
    // (one pub/sub subscription and one poll per followed topic are released).
    const pubsub = createInProcessPubSub(`${h.pubsubPrefix}feed:`);
    const feeds = createAppFeeds(pubsub);
    h.onCleanup(() => feeds.close());
    const hub = feeds.topics;
    const feed = hub.follow(fromGlobal(planned.topic.id));
    expect((await feed.next()).value).toMatchObject({ event: 'status_update', status: 'PLANNED' });
    const waiting = feed.next();
    expect(hub.size).toBe(1);
    await feed.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(hub.size).toBe(0);
  });
});

describe("another team's topic", () => {
  it('is NOT_FOUND (or null) on every entry point', async () => {
    const planned = await plan(keys.alice!, { topic: 'Private matters' });
    const topicId = planned.topic.id;
    await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, keys.alice);
    await h.startWorker(app.pubsub);
    const done = await waitForTopic(topicId, keys.alice!, 'COMPLETED');
    const bob = keys.bob!;
    expect((await h.gql(TOPIC, { id: topicId }, bob)).data!.topic).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: topicId }, bob)).data!.node,
    ).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: done.artifact.id }, bob)).data!
        .node,
    ).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: topicId }, keys.alice)).data!
        .node,
    ).toEqual({ id: topicId });
    expect(
      errorCodes(await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, bob)),
    ).toEqual(['NOT_FOUND']);
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: bob });
    h.onCleanup(() => client.dispose());
    expect(
      (await collect(client, FEED, { topicId })).map((r) => r.errors?.[0]?.extensions?.code),
    ).toEqual(['NOT_FOUND']);
    for (const file of done.artifact.downloads)
      expect((await download(file.url, bob)).status).toBe(404);
    const bobsTopics = (await h.gql(`{ topics { totalCount edges { node { id } } } }`, {}, bob))
      .data!.topics;
    expect(bobsTopics.edges.map((e: any) => e.node.id)).not.toContain(topicId);
    // The operator sees every team: alice's task and the topic behind it.
    const task = (
      await h.gql(
        `query($id: ID!) { task(id: $id) { id topic { id } } }`,
        { id: done.task.id },
        h.adminKey,
      )
    ).data!.task;
    expect(task).toEqual({ id: done.task.id, topic: { id: topicId } });
    expect(
      (
        await h.gql(
          `query($id: ID!) { task(id: $id) { topic { id } } }`,
          { id: done.task.id },
          keys.alice,
        )
      ).data!.task.topic,
    ).toEqual({ id: topicId });
  });
});

describe('topics', () => {
  it("lists the caller's own, newest first, with keyset cursors and a total", async () => {
    const key = await mintKey('lister');
    const ids: string[] = [];
    for (const topic of ['first', 'second', 'third'])
      ids.push((await plan(key, { topic })).topic.id);
    const query = `query($first: Int, $after: String) { topics(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id topic status } } } }`;
    const page1 = (await h.gql(query, { first: 2 }, key)).data!.topics;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((e: any) => e.node.topic)).toEqual(['third', 'second']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await h.gql(query, { first: 2, after: page1.pageInfo.endCursor }, key)).data!
      .topics;
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(errorCodes(await h.gql(query, { after: 'bogus' }, key))).toEqual(['BAD_USER_INPUT']);
  });

  it('loads a page with its relations in a constant number of SQL statements', async () => {
    const key = await mintKey('counter');
    const query = `{ topics(first: 50) { totalCount edges { node {
      topic sections { title } template { name } agent { name } task { status } artifact { id downloads { format bytes } } } } } }`;
    const count = async () => {
      h.queryLog.length = 0;
      const response = await h.gql(query, {}, key);
      expect(response.errors).toBeUndefined();
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    await plan(key, { topic: 'probe' });
    const withFew = await count();
    for (let i = 0; i < 12; i++) await plan(key, { topic: `probe ${i}` });
    const withMany = await count();
    expect(withMany).toBe(withFew);
  });
});

describe('LLM providers against a local server', () => {
  it('openai: plans, streams every section into the report, and moves progress per section', async () => {
    await configureOpenAi();
    stub.reset();
    // Slow enough per section that each step is seen (progress is coalesced to ~4 writes/s).
    stub.behave({ headersDelayMs: 400 });
    try {
      const planned = await plan(keys.alice!, { topic: 'Streaming report' });
      expect(planned).toMatchObject({ planner: 'openai', fellBack: false });
      expect(planned.sections.map((s: any) => s.title)).toEqual([
        'Stub opening',
        'Stub middle',
        'Stub ending',
      ]);
      expect(stub.requests[0]).toMatchObject({
        api: 'openai',
        body: { model: 'stub-model', stream: true },
      });
      expect(stub.requests[0]!.headers.authorization).toBe('Bearer sk-stub');
      expect(stub.requests[0]!.user).toContain('Topic: Streaming report');

      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: keys.alice! });
      h.onCleanup(() => client.dispose());
      const feed = collect<any>(client, FEED, { topicId: planned.topic.id });
      await h.startWorker(app.pubsub);
      const events = (await feed).map((r) => r.data!.topicGeneration);
      const writing = events.filter((e) => e.currentStep?.startsWith('writing section'));
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
      const sectionRequests = stub.requests.filter((r) => r.user.includes('Write section'));
      expect(sectionRequests).toHaveLength(3);
      expect(sectionRequests[1]!.user).toContain('Approved plan:\n# Stub plan');
    } finally {
      await configureLocal();
    }
  });

  it('openai: a planner that misses the budget falls back to the local planner, and says so', async () => {
    await configureOpenAi(200);
    stub.reset();
    stub.behave({ headersDelayMs: 1_000 });
    try {
      const result = await plan(keys.alice!, { topic: 'Impatient plan' });
      expect(result).toMatchObject({ planner: 'local', fellBack: true });
      expect(result.sections.map((s: any) => s.title)[0]).toBe('Overview');
      stub.behave({ headersDelayMs: 0, fail: { status: 500, message: 'overloaded' } });
      expect(await plan(keys.alice!, { topic: 'Broken planner' })).toMatchObject({
        planner: 'local',
        fellBack: true,
      });
    } finally {
      await configureLocal();
    }
  });

  it('anthropic: streams a section through the official SDK', async () => {
    const { createAnthropicChat } = await import('../../src/reports/providers/anthropic.js');
    stub.reset();
    const chat = createAnthropicChat({
      baseUrl: stub.anthropicBaseUrl,
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
    expect(stub.requests[0]).toMatchObject({
      api: 'anthropic',
      path: '/v1/messages',
      body: { model: 'claude-stub', stream: true, max_tokens: 100 },
    });
    const { authorization, 'x-api-key': apiKey } = stub.requests[0]!.headers;
    expect([apiKey, authorization]).toContain(apiKey ? 'sk-ant-stub' : 'Bearer sk-ant-stub');
    stub.behave({ fail: { status: 400, message: 'model not found' } });
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
    expect(loadConfig({}).reports).toEqual({
      provider: 'local',
      baseUrl: undefined,
      apiKey: undefined,
      model: undefined,
      planBudgetMs: 2_000,
      planRateLimitPerMinute: 10,
      llmPrices: { inputPerMillionTokens: 0, outputPerMillionTokens: 0 },
    });
    expect(
      loadConfig({
        LLM_PROVIDER: 'openai',
        LLM_BASE_URL: 'http://127.0.0.1:8000/v1',
        LLM_MODEL: 'qwen',
        LLM_PLAN_BUDGET_MS: '1500',
        PLAN_RATE_LIMIT_PER_MINUTE: '30',
      }).reports,
    ).toMatchObject({
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'qwen',
      planBudgetMs: 1_500,
      planRateLimitPerMinute: 30,
    });
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
