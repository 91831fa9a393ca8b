// The pure workflow planners and plan checks (src/reports/planner): the local plan is the same
// for the same context; refreshes only where coverage is missing or older than a day; sections
// depend on the retrievals behind them; estimates scale with complexity and recent actuals;
// the critical path and one cycle's keys are found.
import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../src/reports/planner/workflow-check.js';
import { constraintViolations, estimatePlan } from '../../src/reports/planner/workflow-estimate.js';
import {
  planWorkflowLocally,
  replanWorkflowLocally,
} from '../../src/reports/planner/workflow-local.js';
import type { PlannedStep, WorkflowPlanContext } from '../../src/reports/planner/workflow-types.js';

const now = new Date('2026-11-24T00:00:00Z');
const context = (overrides: Partial<WorkflowPlanContext> = {}): WorkflowPlanContext => ({
  goal: 'Compare what our compliance and security agents know about data retention',
  language: 'en',
  agents: [
    {
      id: 'a-1',
      name: 'Compliance',
      scopeDescription: null,
      lastCoverageUpdate: new Date(now.getTime() - 2 * 86_400_000),
    },
    {
      id: 'a-2',
      name: 'Security',
      scopeDescription: null,
      lastCoverageUpdate: new Date(now.getTime() - 3_600_000),
    },
  ],
  guide: null,
  now,
  ...overrides,
});
const noop = (key: string, dependsOn: string[] = [], complexity = 1): PlannedStep => ({
  key,
  kind: 'NOOP',
  agentId: null,
  dependsOn,
  input: {},
  complexity,
  failurePolicy: null,
});

describe('the local workflow planner', () => {
  it('is deterministic: a retrieval per agent, a refresh where coverage is stale, a section per heading, one synthesis', () => {
    const plan = planWorkflowLocally(context());
    expect(planWorkflowLocally(context())).toEqual(plan);
    expect(plan.map((s) => s.key)).toEqual([
      'refresh-1',
      'retrieve-1',
      'retrieve-2',
      'section-1',
      'section-2',
      'section-3',
      'section-4',
      'section-5',
      'synthesize',
    ]);
    const byKey = Object.fromEntries(plan.map((s) => [s.key, s]));
    expect(byKey['section-2']!.dependsOn).toEqual(['retrieve-1']); // "What Compliance knows"
    expect(byKey['section-3']!.dependsOn).toEqual(['retrieve-2']);
    expect(byKey['section-1']!.dependsOn).toEqual(['retrieve-1', 'retrieve-2']);
    expect(byKey.synthesize!.dependsOn).toEqual([
      'section-1',
      'section-2',
      'section-3',
      'section-4',
      'section-5',
      'refresh-1',
    ]);
    expect(byKey['retrieve-1']!.complexity).toBe(0.7);
    expect(checkPlan(plan, { maxSteps: 1_000, agentIds: new Set(['a-1', 'a-2']) })).toHaveProperty(
      'order',
    );
  });

  it("takes a template guide's headings as the outline", () => {
    const plan = planWorkflowLocally(
      context({ guide: '## Scope of Security\ntext\n## Retention rules\nmore' }),
    );
    const sections = plan.filter((s) => s.kind === 'WRITE_SECTION');
    expect(sections.map((s) => s.input.title)).toEqual(['Scope of Security', 'Retention rules']);
    expect(sections[0]!.dependsOn).toEqual(['retrieve-2']);
  });

  it('replans locally: the steps not started, keeping their dependencies on failed ones (failed inputs)', () => {
    const steps = [noop('a'), noop('b'), noop('c', ['a', 'b'])];
    const state = (key: string, status: string, started: boolean) => ({
      key,
      kind: 'NOOP',
      agentId: null,
      dependsOn: steps.find((s) => s.key === key)!.dependsOn,
      status,
      started,
      error: null,
      summary: null,
      step: steps.find((s) => s.key === key)!,
    });
    const tail = replanWorkflowLocally({
      ...context(),
      hint: null,
      steps: [
        state('a', 'SUCCEEDED', true),
        state('b', 'SKIPPED', true),
        state('c', 'PENDING', false),
      ],
    });
    expect(tail).toEqual([noop('c', ['a', 'b'])]);
  });

  it('replans around a step whose agent was deleted: dropped, and its dependents go without it', () => {
    const orphan: PlannedStep = { ...noop('look'), kind: 'RETRIEVE' };
    const write = noop('write', ['look', 'done']);
    const state = (step: PlannedStep, status: string, started: boolean) => ({
      key: step.key,
      kind: step.kind,
      agentId: step.agentId,
      dependsOn: step.dependsOn,
      status,
      started,
      error: null,
      summary: null,
      step,
    });
    const tail = replanWorkflowLocally({
      ...context(),
      hint: null,
      steps: [
        state(noop('done'), 'SUCCEEDED', true),
        state(orphan, 'READY', false),
        state(write, 'PENDING', false),
      ],
    });
    expect(tail).toEqual([noop('write', ['done'])]);
  });
});

describe('plan checks and estimates', () => {
  it('names one cycle', () => {
    const checked = checkPlan(
      [noop('s'), noop('a', ['s', 'c']), noop('b', ['a']), noop('c', ['b'])],
      { maxSteps: 10, agentIds: new Set() },
    );
    expect('problem' in checked && checked.problem.reason).toBe('CYCLE');
    expect('problem' in checked && [...(checked.problem.details.cycle as string[])].sort()).toEqual(
      ['a', 'b', 'c'],
    );
  });

  it('refuses text PostgreSQL cannot store, in a text field or anywhere in a plugin input', () => {
    const step = (kind: string, input: Record<string, unknown>): PlannedStep => ({
      ...noop('s'),
      kind,
      input,
    });
    const limits = { maxSteps: 10, agentIds: new Set<string>() };
    const refused = (planned: PlannedStep) => {
      const checked = checkPlan([planned], limits);
      return 'problem' in checked && checked.problem.details.stepField;
    };
    expect(refused(step('WRITE_SECTION', { title: 'a\u0000b' }))).toBe('input.title');
    expect(refused(step('WRITE_SECTION', { title: 'a\ud800b' }))).toBe('input.title');
    // JSON.stringify escapes both (a NUL as \u0000, a lone surrogate as \ud800), so a check of
    // the plugin input's JSON text must look for the escapes.
    const plugin = (input: unknown) =>
      refused(step('PLUGIN_TOOL', { installationId: 'inst-1', input }));
    expect(plugin({ nested: ['x', { text: 'a\u0000' }] })).toBe('input.input');
    expect(plugin({ ['k\udc00']: 1 })).toBe('input.input');
    // Text that only spells an escape, and a whole surrogate pair, are storable.
    expect(plugin({ text: '\\u0000 spelled', emoji: '😀' })).toBe(false);
  });

  it('scales estimates by complexity and recent actuals, sums them, and finds the critical path', () => {
    const steps = [
      noop('a', [], 1),
      noop('b', ['a'], 1.5),
      noop('c', ['a'], 0.7),
      noop('d', ['b', 'c'], 1),
    ];
    const order = (checkPlan(steps, { maxSteps: 10, agentIds: new Set() }) as { order: string[] })
      .order;
    const estimate = estimatePlan(steps, order, {
      actuals: { NOOP: { seconds: 2, tokens: 100 } },
      pricePerMillionTokens: 10,
    });
    expect(estimate.perStep.get('b')).toEqual({ seconds: 3, tokens: 150, costUsd: 0.0015 });
    expect(estimate.total).toEqual({ seconds: 8.4, tokens: 420, costUsd: 0.0042 });
    expect(estimate.criticalPath).toEqual(['a', 'b', 'd']);
    expect(estimate.criticalPathSeconds).toBe(7);
    expect(
      constraintViolations(estimate, 4, { maxSeconds: 6, maxCostUsd: 1, maxSteps: 3 }).map(
        (v) => v.constraint,
      ),
    ).toEqual(['TIME', 'STEPS']);
  });
});
