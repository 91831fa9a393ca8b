// generateTopicReport retried safely: an idempotency key (per caller, 24 h) names one
// generation, answered again whatever its state and never started twice, a CONFLICT when
// reused for another topic; and the priority its task is queued at.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { fromGlobal, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, plan, waitForTopic } = t;

const GENERATE = `mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) {
  id status task { id status priority } } }`;

const generationsOf = (topicGlobalId: string) =>
  db().task.count({ where: { type: 'report_generation', topicId: fromGlobal(topicGlobalId) } });

async function generate(input: Record<string, unknown>, key: string) {
  return h.gql(GENERATE, { input }, key);
}

describe('generateTopicReport with an idempotency key', () => {
  it('answers a retry with the generation the key started, before and after it ends', async () => {
    const planned = await plan(keys.alice!, { topic: 'Retried report' });
    const input = {
      topicId: planned.topic.id,
      plan: planned.plan,
      idempotencyKey: 'report-retry-1',
      priority: 'HIGH',
    };
    const first = await generate(input, keys.alice!);
    expect(first.errors).toBeUndefined();
    const task = first.data!.generateTopicReport.task;
    expect(task).toMatchObject({ status: 'PENDING', priority: 'HIGH' });
    // While it is queued: the same task, not a CONFLICT.
    const again = await generate(input, keys.alice!);
    expect(again.errors).toBeUndefined();
    expect(again.data!.generateTopicReport).toMatchObject({ status: 'GENERATING', task });
    await h.startWorker(t.app.pubsub);
    await waitForTopic(planned.topic.id, keys.alice!, 'COMPLETED');
    // After it ended: the completed topic, and still no second generation.
    const late = await generate(input, keys.alice!);
    expect(late.errors).toBeUndefined();
    expect(late.data!.generateTopicReport).toMatchObject({
      status: 'COMPLETED',
      task: { id: task.id, status: 'COMPLETED' },
    });
    expect(await generationsOf(planned.topic.id)).toBe(1);
    expect(await db().artifact.count({ where: { topicId: fromGlobal(planned.topic.id) } })).toBe(1);
    // Without a key, a new request generates again.
    const fresh = await generate({ topicId: planned.topic.id, plan: planned.plan }, keys.alice!);
    expect(fresh.data!.generateTopicReport.task.id).not.toBe(task.id);
    expect(fresh.data!.generateTopicReport.task.priority).toBe('MEDIUM');
  });

  it('starts one generation when the same key arrives twice at once', async () => {
    const planned = await plan(keys.alice!, { topic: 'Raced report' });
    const input = { topicId: planned.topic.id, plan: planned.plan, idempotencyKey: 'raced' };
    const answers = await Promise.all([1, 2, 3].map(() => generate(input, keys.alice!)));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const ids = new Set(answers.map((a) => a.data!.generateTopicReport.task.id));
    expect(ids.size).toBe(1);
    expect(await generationsOf(planned.topic.id)).toBe(1);
  });

  it('is per caller, and a CONFLICT naming idempotencyKey when reused for another topic', async () => {
    const mine = await plan(keys.alice!, { topic: 'First topic' });
    const other = await plan(keys.alice!, { topic: 'Second topic' });
    const bobs = await plan(keys.bob!, { topic: "Bob's topic" });
    const key = 'shared-key';
    const first = await generate(
      { topicId: mine.topic.id, plan: mine.plan, idempotencyKey: key },
      keys.alice!,
    );
    expect(first.errors).toBeUndefined();
    const reused = await generate(
      { topicId: other.topic.id, plan: other.plan, idempotencyKey: key },
      keys.alice!,
    );
    expect(errorCodes(reused)).toEqual(['CONFLICT']);
    expect(reused.errors![0]!.extensions).toMatchObject({
      field: 'idempotencyKey',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
    expect(await generationsOf(other.topic.id)).toBe(0);
    const otherRow = await db().topic.findUniqueOrThrow({
      where: { id: fromGlobal(other.topic.id) },
    });
    expect(otherRow.status).not.toBe('GENERATING');
    // Another caller's same key is theirs.
    const theirs = await generate(
      { topicId: bobs.topic.id, plan: bobs.plan, idempotencyKey: key },
      keys.bob!,
    );
    expect(theirs.errors).toBeUndefined();
    expect(theirs.data!.generateTopicReport.status).toBe('GENERATING');
    expect(await generationsOf(bobs.topic.id)).toBe(1);
  });

  it('refuses a key too long, or an unknown priority, and queues nothing', async () => {
    const planned = await plan(keys.alice!, { topic: 'Bad input' });
    const long = await generate(
      { topicId: planned.topic.id, plan: planned.plan, idempotencyKey: 'k'.repeat(201) },
      keys.alice!,
    );
    expect(errorCodes(long)).toEqual(['BAD_USER_INPUT']);
    expect(long.errors![0]!.extensions!.argument).toBe('input.idempotencyKey');
    const priority = await generate(
      { topicId: planned.topic.id, plan: planned.plan, priority: 'URGENT' },
      keys.alice!,
    );
    expect(errorCodes(priority)).toEqual(['BAD_USER_INPUT']);
    expect(await generationsOf(planned.topic.id)).toBe(0);
  });
});
