// generateTopicReport failing cleanly: a provider that refuses, transient
// failures retried then exhausted, and a task cancelled while running or still pending.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { localWriter } from '../../src/reports/writers/local.js';
import type { ReportWriter } from '../../src/reports/writers/types.js';
import { errorCodes } from '../utils/graphql.js';
import { collect, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { GENERATE, FEED, fromGlobal, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, configureLocal, configureOpenAi, plan, topicOf, waitForTopic } = t;

describe('generateTopicReport', () => {
  it('fails the topic with the error when the provider refuses, and says so to subscribers', async () => {
    await configureOpenAi();
    t.stub.reset();
    try {
      const planned = await plan(keys.alice!, { topic: 'Doomed report' });
      t.stub.behave({ fail: { status: 401, message: 'Incorrect API key provided' } });
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
      expect(t.stub.requests.filter((r) => r.user.includes('Write section'))).toHaveLength(1);
      // A failed topic can be generated again.
      t.stub.behave({ fail: undefined });
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
    await h.configureLlm({ keyPrefix: h.pubsubPrefix, writer: flaky });
    try {
      const planned = await plan(keys.alice!, { topic: 'Flaky provider' });
      await h.gql(
        GENERATE,
        { input: { topicId: planned.topic.id, plan: planned.plan } },
        keys.alice,
      );
      await h.startWorker(t.app.pubsub);
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
      await h.configureLlm({ keyPrefix: h.pubsubPrefix, writer: always });
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
    t.stub.reset();
    t.stub.behave({ chunkDelayMs: 100 });
    try {
      const runningTask = (
        await h.gql(
          GENERATE,
          { input: { topicId: running.topic.id, plan: running.plan } },
          keys.alice,
        )
      ).data!.generateTopicReport.task;
      await h.startWorker(t.app.pubsub);
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
