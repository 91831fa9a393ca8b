// What a plan is checked for before it is stored (Bad input), beyond the reasons of
// workflows-bad-input.test.ts: each step kind's input (INVALID_STEP, naming the step and the
// field), the argument every refusal names (docs/clients.md) with the step at fault and the
// agents as the caller sent them, and the goal counted as people read it. A step stored with
// an input of another shape still runs.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { checkPlan } from '../../src/reports/planner/workflow-check.js';
import { planWorkflowLocally } from '../../src/reports/planner/workflow-local.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { PLAN, RUN, START, step, UPDATE, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();
const UNKNOWN = toGlobalId('Agent', '6f1c1b9e-0000-4000-8000-000000000003');

async function refusal(query: string, variables: Record<string, unknown>) {
  const response = await w.h.gql(query, variables, w.keys.alice);
  expect(response.errors).toHaveLength(1);
  return response.errors![0]!.extensions as Record<string, any>;
}

const planned = async (input: Record<string, unknown> = {}) =>
  (await w.gqlOk(PLAN, { input: { goal: 'checked plan', agentIds: [], ...input } })).planWorkflow;

const edit = async (steps: object[]) => {
  const plan = await planned();
  return refusal(UPDATE, { id: plan.id, v: plan.planVersion, steps });
};

describe('step inputs', () => {
  it("refuses an input a step's kind cannot read (INVALID_STEP), naming the step and the field", async () => {
    const agentId = w.agents[0]!.id;
    const cases: Array<[object, string]> = [
      [step('w', 'WRITE_SECTION', { input: { title: 5 } }), 'input.title'],
      [step('w', 'WRITE_SECTION', { input: { title: '  ' } }), 'input.title'],
      [step('w', 'WRITE_SECTION', { input: { title: 'x'.repeat(201) } }), 'input.title'],
      [step('w', 'WRITE_SECTION', { input: { title: 'T', description: 5 } }), 'input.description'],
      [step('w', 'WRITE_SECTION', { input: { title: 'T', order: 0 } }), 'input.order'],
      [step('w', 'WRITE_SECTION', { input: { title: 'T', total: 1.5 } }), 'input.total'],
      [step('w', 'RETRIEVE', { agentId, input: { query: ['a'] } }), 'input.query'],
      [step('w', 'RETRIEVE', { agentId, input: { topK: 0 } }), 'input.topK'],
      [step('w', 'SYNTHESIZE', { input: { title: { a: 1 } } }), 'input.title'],
      [step('w', 'NOOP', { input: 'wait' }), 'input'],
      [step('w', 'NOOP', { input: [1] }), 'input'],
    ];
    for (const [bad, stepField] of cases)
      expect(await edit([bad]), JSON.stringify(bad)).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'INVALID_STEP',
        argument: 'steps',
        stepKey: 'w',
        stepField,
      });
    // At the bounds, counted in characters (an emoji is two UTF-16 units); null is unset.
    const plan = await planned();
    const fine = [
      step('w', 'WRITE_SECTION', { input: { title: '😀'.repeat(200), description: null } }),
    ];
    expect(
      (await w.gqlOk(UPDATE, { id: plan.id, v: 1, steps: fine })).updateWorkflowPlan.planVersion,
    ).toBe(2);
  });

  it("the local planner links a section to the agents it names, not through words like 'of'", () => {
    const now = new Date();
    const agents = [
      { id: 'art', name: 'History of Art', scopeDescription: null, lastCoverageUpdate: now },
      { id: 'db', name: 'Databases', scopeDescription: null, lastCoverageUpdate: now },
    ];
    const steps = planWorkflowLocally({
      goal: 'Indexing of databases',
      language: 'en',
      agents,
      guide: null,
      now,
    });
    const behind = (title: string) =>
      steps.find((s) => s.kind === 'WRITE_SECTION' && s.input.title === title)!.dependsOn;
    // "The findings of Databases." named History of Art's retrieval too, through "of".
    expect(behind('What Databases knows')).toEqual(['retrieve-2']);
    expect(behind('What History of Art knows')).toEqual(['retrieve-1']);
  });

  it('the local planner keeps long agent names within a section title', () => {
    const name = 'N'.repeat(300);
    const agents = [{ id: 'a1', name, scopeDescription: null, lastCoverageUpdate: new Date() }];
    const steps = planWorkflowLocally({
      goal: 'long names',
      language: 'en',
      agents,
      guide: null,
      now: new Date(),
    });
    const titles = steps.flatMap((s) => (s.kind === 'WRITE_SECTION' ? [s.input.title] : []));
    expect(titles.some((title) => String(title).startsWith('What NNN'))).toBe(true);
    expect(checkPlan(steps, { maxSteps: 1_000, agentIds: new Set(['a1']) })).not.toHaveProperty(
      'problem',
    );
  });

  it('runs a step stored with an input of another shape (no fault text reaches the client)', async () => {
    const plan = await planned();
    await w.gqlOk(UPDATE, {
      id: plan.id,
      v: 1,
      steps: [
        step('w', 'WRITE_SECTION', { input: { title: 'Fine' } }),
        step('syn', 'SYNTHESIZE', { dependsOn: ['w'] }),
      ],
    });
    // As a row from before inputs were checked.
    await db().workflowStep.updateMany({
      where: {
        key: 'w',
        workflow: { id: rowId(plan.id) },
      },
      data: { input: { title: 5, description: 7, order: 'x', total: null } },
    });
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: 2 });
    const done = await w.waitForStatus(plan.id, ['SUCCEEDED', 'FAILED']);
    expect(done.steps.map((s: any) => [s.key, s.status, s.error])).toEqual([
      ['w', 'SUCCEEDED', null],
      ['syn', 'SUCCEEDED', null],
    ]);
    expect(done.artifact.markdown).toContain('## 1. w');
  });
});

describe('the argument a refusal names', () => {
  it('updateWorkflowPlan: steps, with the step at fault', async () => {
    const cases: Array<[object[], Record<string, unknown>]> = [
      [[step('a', 'DANCE')], { reason: 'UNKNOWN_STEP_KIND', stepKey: 'a' }],
      [[step('a', 'NOOP'), step('a', 'NOOP')], { reason: 'DUPLICATE_STEP_KEY', stepKey: 'a' }],
      [[step('a', 'NOOP', { dependsOn: ['x'] })], { reason: 'UNKNOWN_DEPENDENCY', stepKey: 'a' }],
      [[step('a', 'NOOP', { dependsOn: ['a'] })], { reason: 'CYCLE', cycle: ['a'] }],
      [[step('a', 'NOOP', { complexity: 2 })], { reason: 'INVALID_COMPLEXITY', stepKey: 'a' }],
      [[step('a b', 'NOOP')], { reason: 'INVALID_STEP', stepKey: 'a b' }],
      [[step('r', 'RETRIEVE')], { reason: 'UNKNOWN_AGENT', stepKey: 'r' }],
      [
        [step('n', 'NOOP'), step('r', 'RETRIEVE', { agentId: UNKNOWN })],
        { reason: 'UNKNOWN_AGENT', stepKey: 'r', agentIds: [UNKNOWN] },
      ],
      [
        [step('r', 'RETRIEVE', { agentId: 'not-an-id' })],
        { reason: 'UNKNOWN_AGENT', stepKey: 'r', agentIds: ['not-an-id'] },
      ],
      [
        Array.from({ length: 1_001 }, (_, i) => step(`s${i}`, 'NOOP')),
        { reason: 'TOO_MANY_STEPS' },
      ],
    ];
    for (const [steps, expected] of cases)
      expect(await edit(steps), String(expected.reason)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'steps',
        ...expected,
      });
  });

  it('planWorkflow and runWorkflow: input.agentIds (the ids as sent), input.constraints; startWorkflow: planVersion', async () => {
    const agentIds = [w.agents[0]!.id, UNKNOWN, 'x', UNKNOWN];
    for (const query of [PLAN, RUN])
      expect(await refusal(query, { input: { goal: 'g', agentIds } })).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'UNKNOWN_AGENT',
        argument: 'input.agentIds',
        agentIds: [UNKNOWN, 'x'],
      });
    const input = { goal: 'small', agentIds: [w.agents[0]!.id], constraints: { maxSteps: 1 } };
    expect(await refusal(RUN, { input })).toMatchObject({
      reason: 'CONSTRAINT_VIOLATED',
      argument: 'input.constraints',
    });
    const plan = await planned({ constraints: { maxSteps: 1 }, agentIds: [w.agents[0]!.id] });
    expect(await refusal(START, { id: plan.id, v: plan.planVersion })).toMatchObject({
      reason: 'CONSTRAINT_VIOLATED',
      argument: 'planVersion',
    });
  });
});

describe('the goal', () => {
  it('counts user-perceived characters: a flag, a family and e + U+0301 are one each', async () => {
    // 2,000 of each (the family is 8 UTF-16 units: 16,000).
    const goals = ['🇰🇷'.repeat(2_000), 'e\u0301'.repeat(2_000), '👨‍👩‍👧'.repeat(2_000)];
    for (const goal of goals) {
      expect((await planned({ goal })).goal).toBe(goal);
      expect(await refusal(PLAN, { input: { goal: `${goal}y`, agentIds: [] } })).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'TOO_LONG',
        argument: expect.stringMatching(/(^|\.)goal$/),
      });
    }
  });

  it('refuses a goal of invisible characters only (EMPTY) and control characters (CONTROL_CHARACTER)', async () => {
    for (const goal of ['\u200B\u200B', ' \u200D \uFEFF\u2060 '])
      expect(await refusal(PLAN, { input: { goal, agentIds: [] } })).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'EMPTY',
        argument: 'input.goal',
      });
    for (const goal of ['ring \u0007 the bell', 'del\u007f', 'c1\u0085x', 'esc\u001b[31m'])
      expect(await refusal(RUN, { input: { goal, agentIds: [] } })).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'CONTROL_CHARACTER',
        argument: 'input.goal',
      });
    // Whitespace (a tab, line breaks) still collapses; a joiner inside text is kept.
    expect((await planned({ goal: 'a\tb\r\nc\u200Dd' })).goal).toBe('a b c\u200Dd');
  });
});
