// generateTopicReport: GENERATING at once and CONFLICT while it runs,
// followed over graphql-sse (several subscribers, a late one), steps recorded, the exported
// files downloaded and read back, and a run that runs again replacing its artifact.
import { HwpxReader } from '@ssabrojs/hwpxjs';
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { reportGenerationTask } from '../../src/services/topics/tasks/report-generation.js';
import { logger } from '../../src/platform/logger.js';
import { errorCodes } from '../utils/graphql.js';
import { collect, listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { GENERATE, FEED, fromGlobal, documentLines, unsignedPath, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, plan, topicOf, waitForTopic, download } = t;

describe('generateTopicReport', () => {
  it('returns GENERATING at once, CONFLICTs while generating, and every subscriber gets the completion', async () => {
    const planned = await plan(keys.alice!, {
      topic: '생성형 AI 도입 전략',
      templateId: t.guideTemplateId,
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
    // A second request while one is generating.
    const second = await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, keys.alice);
    expect(errorCodes(second)).toEqual(['CONFLICT']);
    expect(second.errors![0]!.extensions!.reason).toBe('GENERATION_IN_PROGRESS');

    // Two subscribers (both graphql-sse modes) before the worker starts.
    const followers = await Promise.all(
      [false, true].map(async (singleConnection) => {
        const client = sseClient({
          url: `${t.app.baseUrl}/graphql/stream`,
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
    await h.startWorker(t.app.pubsub);
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
    const late = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: keys.alice! });
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
    // The API-key way: the path without the signed link's query.
    const response = await download(unsignedPath(hwpxFile.url), keys.alice!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/hwp+zip');
    // The topic's title as written, Korean and spaces included; ASCII-only clients get report.hwpx.
    expect(hwpxFile.filename).toBe('생성형 AI 도입 전략.hwpx');
    const disposition = response.headers.get('content-disposition')!;
    expect(disposition).toMatch(/^attachment; filename="?report\.hwpx"?; filename\*=UTF-8''/);
    expect(disposition).toContain(
      `filename*=UTF-8''${encodeURIComponent('생성형 AI 도입 전략.hwpx')}`,
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.byteLength).toBe(hwpxFile.bytes);
    const reader = new HwpxReader();
    await reader.loadFromArrayBuffer(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const squash = (s: string) => s.replace(/\s+/g, '');
    expect(squash(await reader.extractText())).toBe(squash(documentLines(markdown).join('\n')));
    const md = await download(unsignedPath(done.artifact.downloads[0].url), keys.alice!);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await md.text()).toBe(markdown);
    // Someone else, or no key at all: 404.
    expect((await download(unsignedPath(hwpxFile.url), keys.bob!)).status).toBe(404);
    expect((await download(unsignedPath(hwpxFile.url), null)).status).toBe(404);
  });

  it('moves through the steps on the task and the topic, and an edited plan gives the sections', async () => {
    const planned = await plan(keys.alice!, {
      topic: 'Quarterly review',
      templateId: t.guideTemplateId,
    });
    const edited = '# My plan\n\n## Wins\nWhat went well.\n\n## Misses\nWhat did not.\n';
    const generated = (
      await h.gql(GENERATE, { input: { topicId: planned.topic.id, plan: edited } }, keys.alice)
    ).data!.generateTopicReport;
    expect(generated.sections).toEqual([
      { title: 'Wins', order: 1 },
      { title: 'Misses', order: 2 },
    ]);
    await h.startWorker(t.app.pubsub);
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
    // Coalesced at the source, but the last step of the run always lands, after its start when
    // that is recorded (a run that ends within a worker's turn records only its end).
    if (steps.includes('starting'))
      expect(steps.indexOf('starting')).toBeLessThan(steps.indexOf('completed'));
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
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
    await h.startWorker(t.app.pubsub);
    const done = await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
    const topicId = fromGlobal(planned.topic.id);
    const row = await db().topic.findUniqueOrThrow({ where: { id: topicId } });
    const before = await db().artifact.findMany({ where: { topicId } });
    expect(before.map((a) => a.id)).toEqual([row.taskId]);
    // The worker died after saving, before recording the end: the same task runs again.
    await db().topic.update({ where: { id: topicId }, data: { status: 'GENERATING' } });
    const task = await db().task.findUniqueOrThrow({ where: { id: row.taskId! } });
    const generation = reportGenerationTask(h.llm);
    await generation.run(
      { topicId },
      {
        task: task as never,
        workerId: 'test-worker',
        logger,
        signal: new AbortController().signal,
        reportProgress: () => {},
        pubsub: t.app.pubsub,
      },
    );
    // Saved, not yet completed: the topic completes with the task's end.
    expect((await topicOf(planned.topic.id, keys.alice!)).status).toBe('GENERATING');
    await inTransaction((tx) => generation.finishInTransaction!([task as never], tx, t.app.pubsub));
    const after = await db().artifact.findMany({ where: { topicId } });
    expect(after.map((a) => a.id)).toEqual([row.taskId]);
    expect(await db().artifactFile.count({ where: { artifactId: row.taskId! } })).toBe(3);
    expect(after[0]!.markdown).toBe(done.artifact.markdown);
    expect((await topicOf(planned.topic.id, keys.alice!)).status).toBe('COMPLETED');
  });
});
