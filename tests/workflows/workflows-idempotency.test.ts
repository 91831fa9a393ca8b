// Idempotency keys, per user: runWorkflow with the same key and the same input
// (concurrent calls included) answers with the workflow it started; the same key with other
// input is CONFLICT (IDEMPOTENCY_KEY_USED), never the old workflow. startWorkflow's key is spent
// on its plan version likewise.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { PLAN, RUN, START, step, UPDATE, useWorkflows } from './fixture.js';

const w = useWorkflows();

const refusal = async (query: string, variables: Record<string, unknown>) =>
  (await w.h.gql(query, variables, w.keys.alice)).errors?.[0]?.extensions;

describe('idempotency keys', () => {
  it('runWorkflow: the same key and input answer with one workflow, concurrent calls too', async () => {
    const input = { goal: 'same  input ', agentIds: [w.agents[0]!.id], planner: 'LOCAL' };
    const first = (await w.gqlOk(RUN, { input, key: 'same-input' })).runWorkflow;
    // Whitespace collapses as the goal does; an unset planner is AUTO, explicit AUTO the same.
    const again = (
      await w.gqlOk(RUN, { input: { ...input, goal: 'same input' }, key: 'same-input' })
    ).runWorkflow;
    expect(again.id).toBe(first.id);

    const concurrent = { goal: 'concurrent', agentIds: [w.agents[1]!.id] };
    const runs = await Promise.all(
      [1, 2, 3].map(() => w.gqlOk(RUN, { input: concurrent, key: 'concurrent' })),
    );
    expect(new Set(runs.map((r) => r.runWorkflow.id)).size).toBe(1);
    const auto = (
      await w.gqlOk(RUN, { input: { ...concurrent, planner: 'AUTO' }, key: 'concurrent' })
    ).runWorkflow;
    expect(auto.id).toBe(runs[0].runWorkflow.id);
    expect(await db().workflow.count({ where: { idempotencyKey: 'concurrent' } })).toBe(1);
  });

  it('runWorkflow: the same key with other input is CONFLICT (IDEMPOTENCY_KEY_USED)', async () => {
    const input = { goal: 'the first input', agentIds: [w.agents[0]!.id] };
    const first = (await w.gqlOk(RUN, { input, key: 'spent' })).runWorkflow;
    const others = [
      { goal: 'another goal' },
      { agentIds: [w.agents[1]!.id] },
      { agentIds: [w.agents[0]!.id, w.agents[1]!.id] },
      { constraints: { maxSteps: 100 } },
      { planner: 'LOCAL' },
      { failurePolicy: 'SKIP' },
      { maxParallelSteps: 3 },
    ];
    for (const other of others)
      expect(await refusal(RUN, { input: { ...input, ...other }, key: 'spent' })).toMatchObject({
        code: 'CONFLICT',
        reason: 'IDEMPOTENCY_KEY_USED',
      });
    expect(await db().workflow.count({ where: { idempotencyKey: 'spent' } })).toBe(1);
    expect((await w.gqlOk(RUN, { input, key: 'spent' })).runWorkflow.id).toBe(first.id);

    // Concurrent calls with one key and two inputs: one starts, the other is refused.
    const raced = await Promise.all(
      ['raced one', 'raced two'].map((goal) =>
        w.h.gql(RUN, { input: { ...input, goal }, key: 'raced' }, w.keys.alice),
      ),
    );
    expect(raced.filter((r) => r.errors === undefined)).toHaveLength(1);
    expect(raced.flatMap((r) => r.errors ?? [])[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
  });

  it('startWorkflow: the same key at another plan version is CONFLICT (IDEMPOTENCY_KEY_USED)', async () => {
    const planned = (await w.gqlOk(PLAN, { input: { goal: 'start once', agentIds: [] } }))
      .planWorkflow;
    const edited = (
      await w.gqlOk(UPDATE, {
        id: planned.id,
        v: 1,
        steps: [step('a', 'NOOP', { input: { waitMs: 10 } })],
      })
    ).updateWorkflowPlan;
    expect(edited.planVersion).toBe(2);
    const started = (await w.gqlOk(START, { id: planned.id, v: 2, key: 'start-key' }))
      .startWorkflow;
    expect(started.status).toBe('RUNNING');
    expect(
      (await w.gqlOk(START, { id: planned.id, v: 2, key: 'start-key' })).startWorkflow.id,
    ).toBe(planned.id);
    expect(await refusal(START, { id: planned.id, v: 1, key: 'start-key' })).toMatchObject({
      code: 'CONFLICT',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
    // A key spent by startWorkflow is not a runWorkflow's either.
    expect(
      await refusal(RUN, { input: { goal: 'start once', agentIds: [] }, key: 'start-key' }),
    ).toMatchObject({ code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_USED' });
  });
});
