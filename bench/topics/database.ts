// The topic benchmarks' world: a fresh database (`agent_growth_bench_topics`, migrated, with
// the demo corpus: ~1,000 documents, 8 agents) on the server of DATABASE_URL or the
// embedded PostgreSQL; the API in-process on an in-process pub/sub; a user key; a
// six-section template. Requests go through app.fetch: no sockets.
import { randomUUID } from 'node:crypto';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { loadDemoData } from '../../src/demo/load.js';
import { createInProcessPubSub, type PubSub } from '../../src/platform/pubsub.js';
import { toGlobalId } from '../../src/schema/ids.js';
import type { App } from '../../src/http/app.js';
import { benchApp, type BenchService } from '../service.js';
import { openFreshBenchDatabase } from '../database.js';

export const TOPIC_BENCH_DATABASE = 'agent_growth_bench_topics';

export const SIX_SECTION_GUIDE = `# 시장 분석 보고서 가이드

## 개요
보고서의 목적과 범위.

## 시장 현황
{{topic}}의 규모와 성장률.

## 기술 동향
핵심 기술과 성숙도.

## 경쟁 구도
주요 기업과 점유율.

## 위험 요인
규제, 비용, 보안.

## 결론 및 제언
요약과 실행 과제.
`;

export const openTopicBenchDatabase = () => openFreshBenchDatabase(TOPIC_BENCH_DATABASE);

export interface TopicBench {
  app: App;
  pubsub: PubSub;
  /** What the app was made with (the worker runs the same task registry). */
  service: BenchService;
  /** A WRITE key of the user `bench`. */
  key: string;
  templateId: string;
  /** A demo agent (global id). */
  agentId: string;
  gql(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data?: any; errors?: Array<{ message: string }> }>;
  close(): Promise<void>;
}

export async function openTopicBench(): Promise<TopicBench> {
  const database = await openTopicBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  await loadDemoData();
  const adminApiKey = `bench-admin-${randomUUID()}`;
  const pubsub = createInProcessPubSub('bench:');
  const { app, service, close: closeApp } = await benchApp(adminApiKey, pubsub);
  const request = async (key: string, query: string, variables?: Record<string, unknown>) => {
    const response = await app.fetch(
      new Request('http://bench.local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      }),
    );
    return (await response.json()) as { data?: any; errors?: Array<{ message: string }> };
  };
  const minted = await request(
    adminApiKey,
    `mutation { createApiKey(input: { user: "bench", name: "bench", scopes: [WRITE] }) { key } }`,
  );
  const key: string = minted.data.createApiKey.key;
  const template = await request(
    key,
    `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }`,
    {
      input: {
        name: 'six sections',
        category: 'RESEARCH',
        content: 'x',
        promptSystem: SIX_SECTION_GUIDE,
      },
    },
  );
  const agent = await db().agent.findFirstOrThrow({
    orderBy: { createdAt: 'asc' },
    select: { id: true },
  });
  return {
    app,
    pubsub,
    service,
    key,
    templateId: template.data.createTemplate.id,
    agentId: toGlobalId('Agent', agent.id),
    gql: (query, variables) => request(key, query, variables),
    async close() {
      await closeApp();
      await pubsub.close();
      await disconnectDatabase();
      await database.stop();
    },
  };
}

/** Fails the benchmark loudly on a GraphQL error (a fast error is not a fast answer). */
export function ok<T extends { errors?: Array<{ message: string }> }>(result: T, what: string): T {
  if (result.errors?.length)
    throw new Error(`${what}: ${result.errors.map((e) => e.message).join('; ')}`);
  return result;
}
