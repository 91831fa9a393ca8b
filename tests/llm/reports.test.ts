// Routed reports end to end: a section whose stream was cut after text restarts
// on the next deployment and appears once; sections stream to topicGeneration as text
// (a subscriber joining midway first gets the text so far); streamed calls are metered from
// the providers' usage (OpenAI's usage chunk, Anthropic's message_delta), estimated and
// flagged only where a provider gives none.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { collect, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { rowId, useLlm } from './fixture.js';

const t = useLlm();
const FEED = `subscription($topicId: ID!) { topicGeneration(topicId: $topicId) {
  event status currentStep section { order text delta restarted } artifact { markdown } } }`;

async function planned(key: string, topic: string) {
  const data = await t.ok(
    'mutation($input: PlanTopicInput!) { planTopic(input: $input) { plan topic { id } } }',
    { input: { topic } },
    key,
  );
  return { topicId: data.planTopic.topic.id as string, plan: data.planTopic.plan as string };
}

const generate = (key: string, topic: { topicId: string; plan: string }) =>
  t.ok(
    'mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id } }',
    { input: topic },
    key,
  );

describe('routed reports', () => {
  it('a stream cut after text restarts on the next deployment; the section appears once', async () => {
    await t.configure();
    t.primary.reset();
    t.secondary.reset();
    // 10 chunks of 7 characters: past the first line, so text has reached the writer.
    t.primary.behave({ cutAfterChunks: 10, chunkDelayMs: 5 });
    t.secondary.behave({ chunkDelayMs: 5 });
    const cut = await t.deployment(t.alice.key, { name: 'cut', baseUrl: t.primary.openaiBaseUrl });
    const whole = await t.deployment(t.alice.key, {
      name: 'whole',
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [cut, whole] });
    const topic = await planned(t.alice.key, 'Cut stream report');
    await generate(t.alice.key, topic);
    const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: t.alice.key });
    t.h.onCleanup(() => client.dispose());
    const feed = collect<any>(client, FEED, { topicId: topic.topicId });
    await t.h.startWorker(t.app.pubsub);
    const events = (await feed).map((r) => r.data!.topicGeneration);
    const markdown: string = events.at(-1).artifact.markdown;
    const sections = (markdown.match(/STUB-SECTION-1-OF-/g) ?? []).length;
    expect(sections).toBe(1);
    expect(markdown).toContain('A second paragraph, also streamed.');
    expect(t.primary.requests).toHaveLength(1);
    const calls = await t.meteredCalls(t.alice.scope.teamId!);
    const ofTopic = calls.filter((c) => c.topicId === rowId(topic.topicId));
    expect(ofTopic[0]).toMatchObject({ outcome: 'CUT', attempt: 1, deploymentId: rowId(cut) });
    expect(
      ofTopic.slice(1).every((c) => c.outcome === 'OK' && c.deploymentId === rowId(whole)),
    ).toBe(true);
    // The streamed text of each section, as subscribers saw it, ends as the report has it.
    const drafts = events.filter((e) => e.section);
    expect(drafts.length).toBeGreaterThan(0);
    const lastOfFirst = drafts
      .filter((e) => e.section.order === 1)
      .at(-1)
      .section.text.trim();
    expect(markdown).toContain(lastOfFirst);
  });

  it('waits out the cooldown of the only deployment before the next attempt, then completes', async () => {
    await t.configure();
    t.primary.reset();
    // One 429 asking for 2 s: the deployment cools down 2 s; then it answers.
    t.primary.behave({ fail: { status: 429, message: 'slow down', retryAfter: '2', times: 1 } });
    const only = await t.deployment(t.alice.key, {
      name: 'only',
      baseUrl: t.primary.openaiBaseUrl,
    });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [only], maxAttempts: 1 });
    const topic = await planned(t.alice.key, 'Cooled down report');
    await generate(t.alice.key, topic);
    const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: t.alice.key });
    t.h.onCleanup(() => client.dispose());
    const feed = collect<any>(client, FEED, { topicId: topic.topicId });
    await t.h.startWorker(t.app.pubsub);
    const events = (await feed).map((r) => r.data!.topicGeneration);
    expect(events.at(-1).artifact.markdown).toContain('STUB-SECTION-1-OF-');
    // Attempt 1 met the 429; attempt 2 found the deployment cooling down and waited for it
    // (not retried at once into the same refusal, which spent every attempt within a second).
    const { taskId } = await db().topic.findUniqueOrThrow({ where: { id: rowId(topic.topicId) } });
    const task = await db().task.findUniqueOrThrow({ where: { id: taskId! } });
    expect(task).toMatchObject({ status: 'COMPLETED', attempts: 3 });
    const waits = await db().taskEvent.findMany({
      where: { taskId: taskId!, message: { contains: 'retry at' } },
      orderBy: { sequence: 'asc' },
    });
    expect(waits).toHaveLength(2);
    expect(events.some((e) => e.currentStep?.includes('the first cooldown ends in'))).toBe(true);
    const retryAt = new Date(/retry at (\S+)$/.exec(waits[1]!.message!)![1]!);
    expect(retryAt.getTime() - waits[1]!.at.getTime()).toBeGreaterThan(1_000);
    // The 429, then the report's calls once the cooldown passed.
    expect(t.primary.requests.length).toBeGreaterThan(1);
  });

  it('a subscriber joining midway first gets the section text so far, then deltas', async () => {
    await t.configure();
    t.secondary.reset();
    t.secondary.behave({ chunkDelayMs: 40, chunkSize: 3 });
    const slow = await t.deployment(t.alice.key, {
      name: 'slow',
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [slow] });
    const topic = await planned(t.alice.key, 'Streaming text report');
    await generate(t.alice.key, topic);
    await t.h.startWorker(t.app.pubsub);
    const soFar = await waitFor(async () => {
      const row = await db().topic.findUniqueOrThrow({ where: { id: rowId(topic.topicId) } });
      return row.draftSection === 1 && (row.draftText?.length ?? 0) > 20
        ? row.draftText
        : undefined;
    }, 'section 1 half written');
    const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: t.alice.key });
    t.h.onCleanup(() => client.dispose());
    const events = (await collect<any>(client, FEED, { topicId: topic.topicId })).map(
      (r) => r.data!.topicGeneration,
    );
    const first = events.find((e) => e.section)!.section;
    expect(first.text.startsWith(soFar!)).toBe(true);
    expect(first.delta).toBe(first.text);
    // Each later event of section 1 adds its delta to the text before it.
    let text = first.text;
    for (const event of events.slice(events.indexOf(events.find((e) => e.section)) + 1)) {
      if (event.section?.order !== 1) continue;
      expect(event.section.text).toBe(text + event.section.delta);
      text = event.section.text;
    }
    expect(events.at(-1).artifact.markdown).toContain(text.trim());
  });

  it('meters streamed calls from the usage the stream reports, and flags estimates', async () => {
    await t.configure();
    t.primary.reset();
    t.secondary.reset();
    const anthropicKey = await t.addKey(t.alice.key, 'sk-ant-meter-0123456789', 'ANTHROPIC');
    const openai = await t.deployment(t.alice.key, {
      name: 'metered-openai',
      baseUrl: t.primary.openaiBaseUrl,
      inputUsdPerMTok: 2,
      outputUsdPerMTok: 10,
    });
    const anthropic = await t.deployment(t.alice.key, {
      name: 'metered-anthropic',
      kind: 'ANTHROPIC',
      baseUrl: t.secondary.anthropicBaseUrl,
      providerKeyId: anthropicKey.id,
      model: 'claude-stub',
      inputUsdPerMTok: 3,
      outputUsdPerMTok: 15,
    });
    for (const [deployment, stub] of [
      [openai, t.primary],
      [anthropic, t.secondary],
    ] as const) {
      await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [deployment] });
      await t.call(t.alice.scope, 'PLAN');
      const reported = stub.requests.at(-1)!.usage!;
      const row = (await t.meteredCalls(t.alice.scope.teamId!)).at(-1)!;
      expect(row).toMatchObject({
        deploymentId: rowId(deployment),
        service: 'PLAN',
        inputTokens: reported.input,
        outputTokens: reported.output,
        usageEstimated: false,
        outcome: 'OK',
      });
      expect(reported.output).toBeGreaterThan(0);
      const prices = deployment === openai ? [2, 10] : [3, 15];
      expect(row.costUsd).toBeCloseTo(
        (reported.input * prices[0]! + reported.output * prices[1]!) / 1e6,
        12,
      );
      expect(row.timeToFirstTokenMs).not.toBeNull();
    }
    t.primary.behave({ usage: 'none' });
    await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [openai] });
    const text = await t.call(t.alice.scope, 'PLAN');
    const estimated = (await t.meteredCalls(t.alice.scope.teamId!)).at(-1)!;
    expect(estimated).toMatchObject({
      usageEstimated: true,
      outputTokens: Math.ceil(text.length / 4),
    });
    const listed = await t.ok(
      '{ llmCalls(first: 3) { edges { node { usageEstimated deployment { name } inputTokens outputTokens costUsd latencyMs timeToFirstTokenMs } } } }',
      {},
      t.alice.key,
    );
    expect(
      listed.llmCalls.edges.map((e: any) => [e.node.deployment.name, e.node.usageEstimated]),
    ).toEqual([
      ['metered-openai', true],
      ['metered-anthropic', false],
      ['metered-openai', false],
    ]);
    const usage = await t.ok(
      'query($from: DateTime!, $to: DateTime!) { llmUsage(from: $from, to: $to, groupBy: [DEPLOYMENT, SERVICE]) { key calls inputTokens outputTokens costUsd } }',
      {
        from: new Date(Date.now() - 3_600_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      },
      t.alice.key,
    );
    const byKey = Object.fromEntries(usage.llmUsage.map((row: any) => [row.key, row]));
    expect(byKey['metered-openai / PLAN'].calls).toBe(2);
    expect(byKey['metered-anthropic / PLAN'].calls).toBe(1);
  });
});
