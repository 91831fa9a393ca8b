// Topic.artifacts: one artifact per real generation, newest first with keyset cursors that
// stay stable on equal times, and the clean-up keeping the newest ARTIFACT_RETENTION_COUNT.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { retentionCleanUp } from '../../src/workers/index.js';
import { FAST_TASK_ENGINE } from '../utils/test-tasks.js';
import { GENERATE, fromGlobal, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, plan, waitForTopic } = t;

const HISTORY = `query($id: ID!, $first: Int, $after: String) { topic(id: $id) {
  artifact { id }
  artifacts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id createdAt downloads { format } } } } } }`;

/** Plans a topic and generates its report `times` times; the topic's id. */
async function generations(title: string, times: number): Promise<string> {
  const planned = await plan(keys.alice!, { topic: title });
  await h.startWorker(t.app.pubsub);
  for (let run = 0; run < times; run++) {
    const generated = await h.gql(
      GENERATE,
      { input: { topicId: planned.topic.id, plan: planned.plan } },
      keys.alice,
    );
    expect(generated.errors).toBeUndefined();
    await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
  }
  return planned.topic.id;
}

/** Every page of Topic.artifacts, `first` at a time: the artifact ids in order. */
async function allPages(topicId: string, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const response: { data?: any; errors?: unknown } = await h.gql(
      HISTORY,
      { id: topicId, first, after },
      keys.alice,
    );
    expect(response.errors).toBeUndefined();
    const page: any = response.data!.topic.artifacts;
    ids.push(...page.edges.map((edge: any) => edge.node.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
}

/** The topic's artifact ids as the database orders them: newest first, then the larger id. */
async function storedOrder(topicId: string): Promise<string[]> {
  const rows = await db().artifact.findMany({
    where: { topicId: fromGlobal(topicId) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

describe('Topic.artifacts', () => {
  it('lists every generation newest first, page by page, with artifact the first', async () => {
    const topicId = await generations('History of a report', 3);
    const tasks = await db().task.findMany({
      where: {
        type: 'report_generation',
        payload: { path: ['topicId'], equals: fromGlobal(topicId) },
      },
      orderBy: { createdAt: 'desc' },
      select: { id: true },
    });
    // One artifact per generation (keyed by its task), the last generation's first.
    expect(tasks).toHaveLength(3);
    expect(await storedOrder(topicId)).toEqual(tasks.map((task) => task.id));
    const first = (await h.gql(HISTORY, { id: topicId, first: 2 }, keys.alice)).data!.topic;
    expect(first.artifacts.totalCount).toBe(3);
    expect(first.artifacts.pageInfo.hasNextPage).toBe(true);
    expect(first.artifacts.edges[0].node.id).toBe(first.artifact.id);
    expect(first.artifacts.edges[0].node.downloads.map((d: any) => d.format)).toEqual([
      'markdown',
      'hwpx',
      'docx',
    ]);
    const times = first.artifacts.edges.map((edge: any) => Date.parse(edge.node.createdAt));
    expect(times[0]).toBeGreaterThanOrEqual(times[1]);
    const pages = (await allPages(topicId, 2)).map(fromGlobal);
    expect(pages).toEqual(tasks.map((task) => task.id));
    expect((await allPages(topicId, 1)).map(fromGlobal)).toEqual(pages);
  });

  it('keeps a stable order on equal times: the larger id first, across pages', async () => {
    const topicId = await generations('Equal times', 3);
    await db().artifact.updateMany({
      where: { topicId: fromGlobal(topicId) },
      data: { createdAt: new Date('2026-01-01T00:00:00.000Z') },
    });
    const expected = (await storedOrder(topicId)).sort().reverse();
    expect((await allPages(topicId, 1)).map(fromGlobal)).toEqual(expected);
    expect((await allPages(topicId, 2)).map(fromGlobal)).toEqual(expected);
  });

  it('refuses a cursor that is not one of its own', async () => {
    const topicId = await generations('Bad cursor', 1);
    const response = await h.gql(HISTORY, { id: topicId, first: 1, after: 'nonsense' }, keys.alice);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('artifact retention', () => {
  it('deletes the oldest beyond ARTIFACT_RETENTION_COUNT per topic, files included', async () => {
    const crowded = await generations('Crowded history', 4);
    const single = await generations('Single report', 1);
    const before = await storedOrder(crowded);
    expect(before).toHaveLength(4);
    const singleBefore = await storedOrder(single);
    // 0 keeps every one.
    await retentionCleanUp({ ...FAST_TASK_ENGINE, artifactRetentionCount: 0 }, t.app.pubsub);
    expect(await storedOrder(crowded)).toEqual(before);
    await retentionCleanUp({ ...FAST_TASK_ENGINE, artifactRetentionCount: 2 }, t.app.pubsub);
    expect(await storedOrder(crowded)).toEqual(before.slice(0, 2));
    expect(await storedOrder(single)).toEqual(singleBefore);
    expect(await db().artifactFile.count({ where: { artifactId: { in: before.slice(2) } } })).toBe(
      0,
    );
    expect(
      await db().artifactFile.count({ where: { artifactId: { in: before.slice(0, 2) } } }),
    ).toBe(6);
    const listed = (await h.gql(HISTORY, { id: crowded, first: 10 }, keys.alice)).data!.topic;
    expect(listed.artifacts.totalCount).toBe(2);
    expect(listed.artifacts.edges.map((edge: any) => fromGlobal(edge.node.id))).toEqual(
      before.slice(0, 2),
    );
    expect(fromGlobal(listed.artifact.id)).toBe(before[0]);
  });
});
