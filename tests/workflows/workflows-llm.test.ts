// The LLM planner and writer against the local stub server (a real HTTP LLM): a valid JSON
// plan is used as the model wrote it; an invalid or late one falls back to the local plan and
// says so; WRITE_SECTION streams from the writer; a failed step reruns with retryWorkflow,
// keeping every succeeded result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGlobalId } from '../../src/schema/ids.js';
import { db } from '../../src/platform/db.js';
import {
  defaultReply,
  startLlmStub,
  stubProvider,
  type LlmStub,
  type StubRequest,
} from '../utils/llm-stub.js';
import { waitFor } from '../utils/wait.js';
import { CANCEL, PLAN, REPLAN, RETRY, START, step, UPDATE, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();
let stub: LlmStub;
const isWorkflowPlan = (request: StubRequest) =>
  request.system.includes('You plan multi-agent workflows');

const JSON_PLAN = JSON.stringify({
  steps: [
    { key: 'look', kind: 'RETRIEVE', agent: 'A1', dependsOn: [] },
    {
      key: 'write-it',
      kind: 'WRITE_SECTION',
      dependsOn: ['look'],
      title: 'Findings',
      description: 'What was found',
      complexity: 1.5,
    },
    { key: 'brief', kind: 'SYNTHESIZE', dependsOn: ['write-it'] },
  ],
});

/** The stub as the env deployment; a fresh `keyPrefix` starts without cooldowns. */
function useOpenAi(planBudgetMs = 2_000, keyPrefix = w.h.pubsubPrefix) {
  return w.h.configureLlm({
    llm: {
      ...stubProvider(stub),
      prices: { inputPerMillionTokens: 3, outputPerMillionTokens: 15 },
    },
    planBudgetMs,
    planRateLimitPerMinute: 1_000,
    keyPrefix,
  });
}

beforeAll(async () => {
  stub = await startLlmStub();
  await useOpenAi();
});
afterAll(async () => {
  await w.h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: w.h.pubsubPrefix });
  await stub.close();
});

const plan = async () =>
  (
    await w.gqlOk(PLAN, {
      input: { goal: 'What do we know about embeddings?', agentIds: [w.agents[0]!.id] },
    })
  ).planWorkflow;

/** A local plan for `input`, edited to `steps` (version 2), not started. */
async function editedPlan(input: Record<string, unknown>, steps: object[]) {
  const planned = (await w.gqlOk(PLAN, { input: { agentIds: [], planner: 'LOCAL', ...input } }))
    .planWorkflow;
  return (await w.gqlOk(UPDATE, { id: planned.id, v: 1, steps })).updateWorkflowPlan;
}

describe('the LLM planner and writer', () => {
  it('uses a valid JSON plan as the model wrote it (planner openai, complexity kept)', async () => {
    stub.reset();
    stub.behave({
      reply: (request) => (isWorkflowPlan(request) ? JSON_PLAN : defaultReply(request)),
    });
    const planned = await plan();
    expect(planned).toMatchObject({ planner: 'openai', fellBack: false });
    expect(planned.steps.map((s: any) => [s.key, s.kind, s.dependsOn, s.complexity])).toEqual([
      ['look', 'RETRIEVE', [], 1],
      ['write-it', 'WRITE_SECTION', ['look'], 1.5],
      ['brief', 'SYNTHESIZE', ['write-it'], 1],
    ]);
    expect(planned.steps[0].agent.id).toBe(w.agents[0]!.id);
    expect(stub.requests.filter(isWorkflowPlan)[0]!.user).toContain('A1: Machine learning');
    // The plan's call is metered against the workflow it made (llmCalls filter workflowId).
    await w.h.llm.metering.flush();
    const { llmCalls } = await w.gqlOk(
      'query($id: ID!) { llmCalls(filter: { workflowId: $id }) { edges { node { service outcome workflowId } } } }',
      { id: planned.id },
    );
    expect(llmCalls.edges.map((e: any) => e.node)).toEqual([
      { service: 'PLAN', outcome: 'OK', workflowId: planned.id },
    ]);
    // A replan by hand is metered against the workflow too, under the key that asked (its
    // budgets apply): it was metered under no key and no workflow.
    const replanned = (
      await w.gqlOk(REPLAN, { id: planned.id, v: planned.planVersion, hint: null })
    ).replanWorkflow;
    expect(replanned.planVersion).toBe(planned.planVersion + 1);
    await w.h.llm.metering.flush();
    const workflowRowId = rowId(planned.id);
    const calls = await db().llmCall.findMany({
      where: { workflowId: workflowRowId },
      orderBy: { createdAt: 'asc' },
    });
    expect(calls.map((c) => c.service)).toEqual(['PLAN', 'PLAN']);
    const key = await db().apiKey.findFirstOrThrow({ where: { user: { name: 'alice' } } });
    expect(calls.map((c) => c.apiKeyId)).toEqual([key.id, key.id]);
  });

  it('falls back to the local plan, saying so, when the reply is not a plan or breaks the rules', async () => {
    for (const reply of [
      '# Not JSON at all',
      JSON.stringify({ steps: [{ key: 'a', kind: 'NOOP', dependsOn: ['a'] }] }),
      JSON.stringify({ steps: [{ key: 'a', kind: 'RETRIEVE', agent: 'A9' }] }),
    ]) {
      stub.behave({
        reply: (request) => (isWorkflowPlan(request) ? reply : defaultReply(request)),
      });
      const planned = await plan();
      expect(planned).toMatchObject({ planner: 'local', fellBack: true });
      expect(planned.steps.at(-1).kind).toBe('SYNTHESIZE');
    }
  });

  it('falls back when the model is later than the plan budget', async () => {
    await useOpenAi(200);
    try {
      stub.behave({ reply: () => JSON_PLAN, headersDelayMs: 1_000 });
      expect(await plan()).toMatchObject({ planner: 'local', fellBack: true });
    } finally {
      stub.behave({ headersDelayMs: 0 });
      await useOpenAi();
    }
  });

  it('writes sections through the writer; a failed one reruns with retryWorkflow, keeping what succeeded', async () => {
    stub.reset();
    stub.behave({ fail: { status: 400, message: 'bad request from the stub' } });
    const edited = await editedPlan({ goal: 'retry me', agentIds: [w.agents[0]!.id] }, [
      step('look', 'RETRIEVE', { agentId: w.agents[0]!.id }),
      step('write', 'WRITE_SECTION', {
        dependsOn: ['look'],
        input: { title: 'Embeddings', description: 'd' },
      }),
      step('brief', 'SYNTHESIZE', { dependsOn: ['write'] }),
    ]);
    // Estimated at the WRITE route's prices (the env deployment's: the mean of 3 and 15 USD).
    expect(edited.estimate.costUsd).toBeGreaterThan(0);
    expect(edited.estimate.costUsd).toBeCloseTo((edited.estimate.tokens * 9) / 1e6, 5);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    const failed = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    expect(failed.status).toBe('FAILED');
    const look = failed.steps.find((s: any) => s.key === 'look');
    expect(look.status).toBe('SUCCEEDED');
    expect(failed.steps.find((s: any) => s.key === 'write')).toMatchObject({
      status: 'FAILED',
      attempts: 1,
    });

    stub.behave({ fail: undefined });
    expect((await w.gqlOk(RETRY, { id: edited.id, from: 'write' })).retryWorkflow.status).toBe(
      'RUNNING',
    );
    const done = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.find((s: any) => s.key === 'look')).toEqual(look);
    expect(done.steps.find((s: any) => s.key === 'write').result.markdown).toContain(
      'STUB-SECTION',
    );
    expect(done.artifact.markdown).toContain('STUB-SECTION');
    const lookRow = await db().workflowStep.findFirstOrThrow({
      where: { key: 'look', workflow: { goal: 'retry me' } },
    });
    expect(lookRow.attempts).toBe(1);
    // The section cost what its LLM calls were metered at, at the deployment's prices.
    const writeRow = await db().workflowStep.findFirstOrThrow({
      where: { key: 'write', workflow: { goal: 'retry me' } },
    });
    await w.h.llm.metering.flush();
    const calls = await db().llmCall.findMany({ where: { taskId: writeRow.taskId } });
    expect(calls.length).toBeGreaterThan(0);
    // Metered against the key that started (here: retried) the workflow: its budgets apply.
    const { apiKeyId } = await db().workflow.findUniqueOrThrow({
      where: { id: writeRow.workflowId },
    });
    expect(apiKeyId).not.toBeNull();
    expect(calls.map((c) => c.apiKeyId)).toEqual(calls.map(() => apiKeyId));
    expect(calls.map((c) => c.workflowId)).toEqual(calls.map(() => writeRow.workflowId));
    const actual = writeRow.actual as { tokens: number; costUsd: number };
    expect(actual.tokens).toBe(calls.reduce((sum, c) => sum + c.inputTokens + c.outputTokens, 0));
    expect(actual.costUsd).toBeGreaterThan(0);
    expect(actual.costUsd).toBeCloseTo(
      calls.reduce((sum, c) => sum + c.costUsd, 0),
      6,
    );
  });

  it('retrying from a step the failure cancelled reruns the failed step too; a running workflow is not retried', async () => {
    stub.reset();
    stub.behave({ fail: { status: 400, message: 'bad request from the stub' } });
    const edited = await editedPlan({ goal: 'retry a sibling' }, [
      step('write', 'WRITE_SECTION', {
        dependsOn: ['gate'],
        input: { title: 'Embeddings', description: 'd' },
      }),
      step('gate', 'NOOP', { input: { waitMs: 500 } }),
      step('slow', 'NOOP', { input: { waitMs: 2_000 } }),
      step('after', 'NOOP', { dependsOn: ['write'] }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    const running = await w.h.gql(RETRY, { id: edited.id, from: 'slow' }, w.keys.alice);
    expect(running.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'STILL_RUNNING',
    });
    const failed = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    expect(Object.fromEntries(failed.steps.map((s: any) => [s.key, s.status]))).toEqual({
      write: 'FAILED',
      gate: 'SUCCEEDED',
      slow: 'CANCELLED',
      after: 'CANCELLED',
    });
    stub.behave({ fail: undefined });
    await w.gqlOk(RETRY, { id: edited.id, from: 'slow' });
    const done = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.find((s: any) => s.key === 'gate').attempts).toBe(1);
  });

  it("a section whose streams were cut and skipped cost what its calls were metered at, every attempt's", async () => {
    stub.reset();
    // Cut after some text reached the writer (the provider billed it).
    stub.behave({ cutAfterChunks: 10, chunkDelayMs: 5 });
    const edited = await editedPlan({ goal: 'cut me', failurePolicy: 'SKIP' }, [
      step('cut', 'WRITE_SECTION', { input: { title: 'Cut', description: 'd' } }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    const done = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    stub.behave({ cutAfterChunks: undefined, chunkDelayMs: 0 });
    // The cut cooled the stub's deployment down: the next tests start without that.
    await useOpenAi(2_000, `${w.h.pubsubPrefix}after-cut:`);
    const row = await db().workflowStep.findFirstOrThrow({
      where: { key: 'cut', workflow: { goal: 'cut me' } },
    });
    expect(row.status).toBe('SKIPPED');
    await w.h.llm.metering.flush();
    const calls = await db().llmCall.findMany({ where: { taskId: row.taskId } });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((c) => c.outcome)).not.toContain('OK');
    const cost = calls.reduce((sum, c) => sum + c.costUsd, 0);
    expect(cost).toBeGreaterThan(0);
    expect((row.actual as { costUsd: number }).costUsd).toBeCloseTo(cost, 6);
    expect(done.actual.costUsd).toBeCloseTo(cost, 6);
  });

  it("a streamed section's progress is at most one event per 250 ms (4 a second)", async () => {
    stub.reset();
    stub.behave({ chunkDelayMs: 25, chunkSize: 2 });
    const edited = await editedPlan({ goal: 'progress me' }, [
      step('streamed', 'WRITE_SECTION', { input: { title: 'Streamed', description: 'd' } }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    await w.waitForStatus(edited.id, ['SUCCEEDED']);
    stub.behave({ chunkDelayMs: 0, chunkSize: 7 });
    const times = (
      await db().workflowEvent.findMany({
        where: {
          workflowId: parseGlobalId('Workflow', edited.id)!,
          kind: 'PROGRESS',
        },
        orderBy: { sequence: 'asc' },
      })
    ).map((event) => event.at.getTime());
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
  });

  it('a section cancelled mid-stream keeps what its aborted call cost', async () => {
    stub.reset();
    stub.behave({ chunkDelayMs: 200 });
    const edited = await editedPlan({ goal: 'cancel me' }, [
      step('long', 'WRITE_SECTION', { input: { title: 'Long', description: 'd' } }),
    ]);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    await waitFor(async () => stub.requests.length > 0, 'the section asked the stub');
    await new Promise((resolve) => setTimeout(resolve, 600));
    await w.gqlOk(CANCEL, { id: edited.id });
    stub.behave({ chunkDelayMs: 0 });
    const row = await waitFor(async () => {
      const step = await db().workflowStep.findFirstOrThrow({
        where: { key: 'long', workflow: { goal: 'cancel me' } },
      });
      return (step.actual as { costUsd?: number } | null)?.costUsd ? step : undefined;
    }, "the cancelled step's cost");
    expect(row.status).toBe('CANCELLED');
    await w.h.llm.metering.flush();
    const calls = await db().llmCall.findMany({ where: { taskId: row.taskId } });
    expect(calls.map((c) => c.outcome)).toEqual(['ABORTED']);
    expect((row.actual as { costUsd: number }).costUsd).toBeCloseTo(calls[0]!.costUsd, 6);
  });

  it('REPLAN replans at most twice: a writer that keeps failing fails the workflow on the third failure', async () => {
    stub.reset();
    stub.behave({ fail: { status: 400, message: 'bad request from the stub' } });
    const edited = await editedPlan(
      { goal: 'replan me', failurePolicy: 'REPLAN', maxParallelSteps: 1 },
      ['w1', 'w2', 'w3'].map((key) =>
        step(key, 'WRITE_SECTION', { input: { title: key, description: 'd' } }),
      ),
    );
    // Estimated at the WRITE route's prices (the env deployment's: the mean of 3 and 15 USD).
    expect(edited.estimate.costUsd).toBeGreaterThan(0);
    expect(edited.estimate.costUsd).toBeCloseTo((edited.estimate.tokens * 9) / 1e6, 5);
    await w.startWorker();
    await w.gqlOk(START, { id: edited.id, v: edited.planVersion });
    const failed = await w.waitForStatus(edited.id, ['FAILED', 'SUCCEEDED']);
    stub.behave({ fail: undefined });
    expect(failed.status).toBe('FAILED');
    expect(Object.fromEntries(failed.steps.map((s: any) => [s.key, s.status]))).toEqual({
      w1: 'SKIPPED',
      w2: 'SKIPPED',
      w3: 'FAILED',
    });
    expect(failed.planVersion).toBe(4);
    expect(failed.events.filter((e: any) => e.kind === 'PLAN')).toHaveLength(3);
    const row = await db().workflow.findFirstOrThrow({ where: { goal: 'replan me' } });
    expect(row.replans).toBe(2);
  });
});
