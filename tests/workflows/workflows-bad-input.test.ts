// Every refusal of bad workflow input: BAD_USER_INPUT with extensions.reason (and, for a
// cycle, its keys), CONFLICT for an ended workflow or a stale plan version, and planning
// sharing planTopic's rate limit. Nothing is stored for a refused request.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { collect, sseClient } from '../utils/sse.js';
import { CANCEL, PLAN, RETRY, RUN, START, step, UPDATE, useWorkflows } from './fixture.js';

const w = useWorkflows();

async function refusal(query: string, variables: Record<string, unknown>) {
  const response = await w.h.gql(query, variables, w.keys.alice);
  expect(response.data?.[Object.keys(response.data ?? {})[0]!] ?? null).toBeNull();
  expect(response.errors).toHaveLength(1);
  return response.errors![0]!.extensions as Record<string, any>;
}

async function planned() {
  return (await w.gqlOk(PLAN, { input: { goal: 'a plan to edit', agentIds: [w.agents[0]!.id] } }))
    .planWorkflow;
}

const edit = async (steps: object[]) => {
  const plan = await planned();
  return refusal(UPDATE, { id: plan.id, v: plan.planVersion, steps });
};

describe('bad input', () => {
  it('refuses an empty goal (EMPTY) and one over 2,000 characters (TOO_LONG)', async () => {
    const before = await db().workflow.count();
    expect(await refusal(PLAN, { input: { goal: '  \n ', agentIds: [] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'EMPTY',
    });
    expect(await refusal(PLAN, { input: { goal: 'x'.repeat(2_001), agentIds: [] } })).toMatchObject(
      { code: 'BAD_USER_INPUT', reason: 'TOO_LONG' },
    );
    expect(await refusal(RUN, { input: { goal: '', agentIds: [] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'EMPTY',
      argument: 'input.goal',
    });
    expect(
      await refusal(PLAN, { input: { goal: '😀'.repeat(2_001), agentIds: [] } }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_LONG', argument: 'input.goal' });
    // 2,000 characters: accented, emoji (two UTF-16 units each), or with whitespace around.
    for (const goal of ['é'.repeat(2_000), '😀'.repeat(2_000), ` \n${'x'.repeat(2_000)}\n `])
      expect((await w.gqlOk(PLAN, { input: { goal, agentIds: [] } })).planWorkflow.goal).toBe(
        goal.trim(),
      );
    expect(await db().workflow.count()).toBe(before + 3);
  });

  it('names the input field at fault: constraints, parallelism', async () => {
    const before = await db().workflow.count();
    const input = { goal: 'bounded', agentIds: [] };
    expect(
      await refusal(RUN, { input: { ...input, constraints: { maxSteps: -1 } } }),
    ).toMatchObject({
      reason: 'INVALID_CONSTRAINT',
      argument: 'input.constraints',
      field: 'maxSteps',
    });
    expect(await refusal(PLAN, { input: { ...input, maxParallelSteps: 0 } })).toMatchObject({
      reason: 'INVALID_PARALLELISM',
      argument: 'input.maxParallelSteps',
    });
    expect(await db().workflow.count()).toBe(before);
  });

  it('refuses an agent the caller does not see (UNKNOWN_AGENT), in a plan and in an edit', async () => {
    const unknown = toGlobalId('Agent', '6f1c1b9e-0000-4000-8000-000000000001');
    expect(
      await refusal(PLAN, { input: { goal: 'g', agentIds: [w.agents[0]!.id, unknown] } }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_AGENT' });
    // Not an agent's id at all (garbage, another type's): an agent the caller does not see.
    const template = toGlobalId('Template', '6f1c1b9e-0000-4000-8000-000000000002');
    for (const id of ['not-an-id', template, w.agents[0]!.id.slice(0, -2)])
      expect(
        await refusal(RUN, { input: { goal: 'g', agentIds: [w.agents[0]!.id, id] } }),
      ).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_AGENT' });
    const all = await w.h.gql(
      PLAN,
      { input: { goal: 'g', agentIds: ['x', template, unknown, w.agents[0]!.id] } },
      w.keys.alice,
    );
    expect(all.errors?.[0]?.message).toContain('3 of the agents');
    expect(await edit([step('r', 'RETRIEVE', { agentId: unknown })])).toMatchObject({
      reason: 'UNKNOWN_AGENT',
    });
    expect(await edit([step('r', 'RETRIEVE')])).toMatchObject({ reason: 'UNKNOWN_AGENT' });
  });

  it('refuses UNKNOWN_STEP_KIND, DUPLICATE_STEP_KEY and UNKNOWN_DEPENDENCY', async () => {
    expect(await edit([step('a', 'DANCE')])).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UNKNOWN_STEP_KIND',
      kind: 'DANCE',
    });
    expect(await edit([step('a', 'NOOP'), step('a', 'NOOP')])).toMatchObject({
      reason: 'DUPLICATE_STEP_KEY',
      stepKey: 'a',
    });
    expect(await edit([step('a', 'NOOP', { dependsOn: ['ghost'] })])).toMatchObject({
      reason: 'UNKNOWN_DEPENDENCY',
      dependency: 'ghost',
    });
  });

  it('refuses a complexity other than 0.7, 1.0 and 1.5 (INVALID_COMPLEXITY); a dependency named twice is one', async () => {
    for (const complexity of [0.5, 0, -1, 1e308])
      expect(await edit([step('a', 'NOOP', { complexity })])).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'INVALID_COMPLEXITY',
        stepKey: 'a',
      });
    // A NOOP waits at most a minute, and its wait is its estimate (a time constraint sees it).
    for (const waitMs of [1e12, -5, 'abc'])
      expect(await edit([step('a', 'NOOP', { input: { waitMs } })])).toMatchObject({
        reason: 'INVALID_STEP',
        argument: 'steps',
        stepKey: 'a',
        stepField: 'input.waitMs',
      });
    const slow = (
      await w.gqlOk(PLAN, {
        input: { goal: 'slow', agentIds: [], constraints: { maxSeconds: 10 } },
      })
    ).planWorkflow;
    const waiting = (
      await w.gqlOk(UPDATE, {
        id: slow.id,
        v: slow.planVersion,
        steps: [step('a', 'NOOP', { input: { waitMs: 20_000 } })],
      })
    ).updateWorkflowPlan;
    expect(waiting.estimate.seconds).toBe(20);
    expect(waiting.constraintViolations.map((v: any) => v.constraint)).toEqual(['TIME']);
    const plan = await planned();
    const steps = [
      step('a', 'NOOP', { complexity: 1.5 }),
      step('b', 'NOOP', { dependsOn: ['a', 'a'] }),
    ];
    const edited = (await w.gqlOk(UPDATE, { id: plan.id, v: plan.planVersion, steps }))
      .updateWorkflowPlan;
    expect(edited.steps.find((s: any) => s.key === 'b').dependsOn).toEqual(['a']);
    const started = (await w.gqlOk(START, { id: plan.id, v: edited.planVersion })).startWorkflow;
    await w.startWorker();
    await w.waitForStatus(started.id, ['SUCCEEDED']);
  });

  it('an empty plan ends SUCCEEDED at 100 %; events(first:) outside 0-500 is BAD_USER_INPUT', async () => {
    const plan = await planned();
    const emptied = (await w.gqlOk(UPDATE, { id: plan.id, v: plan.planVersion, steps: [] }))
      .updateWorkflowPlan;
    const started = (await w.gqlOk(START, { id: plan.id, v: emptied.planVersion })).startWorkflow;
    const done = await w.waitForStatus(started.id, ['SUCCEEDED']);
    expect(done.progressPercent).toBe(100);
    for (const first of [-1, 501]) {
      const response = await w.h.gql(
        'query($id: ID!, $first: Int) { workflow(id: $id) { events(first: $first) { sequence } } }',
        { id: plan.id, first },
        w.keys.alice,
      );
      expect(response.errors?.[0]?.extensions?.code, String(first)).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses a CYCLE and names its keys in extensions.cycle', async () => {
    const extensions = await edit([
      step('start', 'NOOP'),
      step('a', 'NOOP', { dependsOn: ['start', 'c'] }),
      step('b', 'NOOP', { dependsOn: ['a'] }),
      step('c', 'NOOP', { dependsOn: ['b'] }),
      step('end', 'NOOP', { dependsOn: ['c'] }),
    ]);
    expect(extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CYCLE' });
    expect([...extensions.cycle].sort()).toEqual(['a', 'b', 'c']);
    expect(await edit([step('self', 'NOOP', { dependsOn: ['self'] })])).toMatchObject({
      reason: 'CYCLE',
      cycle: ['self'],
    });
  });

  it('refuses more steps than WORKFLOW_MAX_STEPS (TOO_MANY_STEPS, 1,000 by default)', async () => {
    const steps = Array.from({ length: 1_001 }, (_, i) => step(`s${i}`, 'NOOP'));
    expect(await edit(steps)).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'TOO_MANY_STEPS',
      maxSteps: 1_000,
    });
    const plan = await planned();
    const ok = (
      await w.gqlOk(UPDATE, { id: plan.id, v: plan.planVersion, steps: steps.slice(0, 1_000) })
    ).updateWorkflowPlan;
    expect(ok.steps).toHaveLength(1_000);
  });

  it('refuses more than 20,000 dependencies in all (TOO_MANY_DEPENDENCIES), nothing written', async () => {
    // 300 steps each on every earlier one: 44,850 dependencies.
    const dense = Array.from({ length: 300 }, (_, i) =>
      step(`s${i}`, 'NOOP', { dependsOn: Array.from({ length: i }, (_, j) => `s${j}`) }),
    );
    const plan = await planned();
    expect(await refusal(UPDATE, { id: plan.id, v: plan.planVersion, steps: dense })).toMatchObject(
      {
        code: 'BAD_USER_INPUT',
        reason: 'TOO_MANY_DEPENDENCIES',
        maxDependencies: 20_000,
        dependencies: 44_850,
      },
    );
    const after = await w.gqlOk(`query($id: ID!) { workflow(id: $id) { planVersion } }`, {
      id: plan.id,
    });
    expect(after.workflow.planVersion).toBe(plan.planVersion);
    // A fan-in of a thousand is well within it.
    const fanIn = [
      ...Array.from({ length: 999 }, (_, i) => step(`p${i}`, 'NOOP')),
      step('join', 'NOOP', { dependsOn: Array.from({ length: 999 }, (_, i) => `p${i}`) }),
    ];
    const ok = (await w.gqlOk(UPDATE, { id: plan.id, v: plan.planVersion, steps: fanIn }))
      .updateWorkflowPlan;
    expect(ok.steps).toHaveLength(1_000);
  });

  it('reports constraint violations before start, and refuses to start or run them (CONSTRAINT_VIOLATED)', async () => {
    const input = {
      goal: 'too big',
      agentIds: [w.agents[0]!.id],
      constraints: { maxSteps: 2, maxSeconds: 0.001 },
    };
    const stepTasks = () => db().task.count({ where: { type: 'workflow_step' } });
    const tasksBefore = await stepTasks();
    const plan = (await w.gqlOk(PLAN, { input })).planWorkflow;
    expect(plan.constraintViolations.map((v: any) => v.constraint).sort()).toEqual([
      'STEPS',
      'TIME',
    ]);
    expect(await refusal(START, { id: plan.id, v: plan.planVersion })).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'CONSTRAINT_VIOLATED',
    });
    const before = await db().workflow.count();
    expect(await refusal(RUN, { input })).toMatchObject({ reason: 'CONSTRAINT_VIOLATED' });
    expect(await db().workflow.count()).toBe(before);
    // Cancelled before it started, it cannot be retried into running past its constraints.
    await w.gqlOk(CANCEL, { id: plan.id });
    expect(await refusal(RETRY, { id: plan.id, from: 'synthesize' })).toMatchObject({
      code: 'CONFLICT',
      reason: 'NOT_STARTED',
    });
    expect(await stepTasks()).toBe(tasksBefore);
  });

  it('answers a stale plan version and an ended workflow with CONFLICT', async () => {
    const plan = await planned();
    await w.gqlOk(UPDATE, { id: plan.id, v: 1, steps: [step('a', 'NOOP')] });
    expect(await refusal(UPDATE, { id: plan.id, v: 1, steps: [step('b', 'NOOP')] })).toMatchObject({
      code: 'CONFLICT',
      reason: 'STALE_PLAN_VERSION',
      planVersion: 2,
    });
    expect(await refusal(START, { id: plan.id, v: 1 })).toMatchObject({
      code: 'CONFLICT',
      reason: 'STALE_PLAN_VERSION',
    });
    await w.gqlOk(CANCEL, { id: plan.id });
    expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
    expect(await refusal(START, { id: plan.id, v: 2 })).toMatchObject({
      code: 'CONFLICT',
      reason: 'WORKFLOW_FINISHED',
    });
    expect(await refusal(UPDATE, { id: plan.id, v: 2, steps: [step('c', 'NOOP')] })).toMatchObject({
      code: 'CONFLICT',
      reason: 'WORKFLOW_FINISHED',
    });
  });

  it("shares planTopic's rate limit (RATE_LIMITED once the bucket is empty)", async () => {
    await w.h.configureLlm({ planRateLimitPerMinute: 2, keyPrefix: `${w.h.pubsubPrefix}limit:` });
    try {
      const topic = await w.h.gql(
        'mutation { planTopic(input: { topic: "one" }) { planner } }',
        {},
        w.keys.alice,
      );
      expect(topic.errors).toBeUndefined();
      await w.gqlOk(PLAN, { input: { goal: 'two', agentIds: [] } });
      expect(await refusal(PLAN, { input: { goal: 'three', agentIds: [] } })).toMatchObject({
        code: 'RATE_LIMITED',
      });
      const fourth = await w.h.gql(
        'mutation { planTopic(input: { topic: "four" }) { planner } }',
        {},
        w.keys.alice,
      );
      expect(fourth.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      // The same shape as the request buckets' refusal: 429 with Retry-After.
      const response = await w.app.fetch(
        new Request('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${w.keys.alice}` },
          body: JSON.stringify({
            query: 'mutation { planTopic(input: { topic: "five" }) { planner } }',
          }),
        }),
      );
      expect(response.status).toBe(429);
      const retryAfter = Number(response.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      const body = await response.json();
      expect(body.errors[0].extensions).toEqual({
        code: 'RATE_LIMITED',
        retryAfter,
      });
      // Over an event stream there is no status to set: the same error, no `http` hints.
      const client = sseClient({ url: `${w.app.baseUrl}/graphql/stream`, key: w.keys.alice! });
      try {
        const [streamed] = await collect(
          client,
          'mutation { planTopic(input: { topic: "six" }) { planner } }',
        );
        expect(streamed!.errors![0]!.extensions).toEqual({
          code: 'RATE_LIMITED',
          retryAfter: expect.any(Number),
        });
      } finally {
        client.dispose();
      }
    } finally {
      await w.h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: w.h.pubsubPrefix });
    }
  });
});
