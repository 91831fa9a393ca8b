// retryWorkflow reruns the step retried from and everything downstream of it,
// whatever its status (a synthesis that succeeded over a skipped section is written again with
// the section), keeping the results of steps that are not downstream; the reset steps wait on
// their dependencies again and the log stays gap-free. The writer is the local LLM stub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { startLlmStub, stubProvider, type LlmStub } from '../utils/llm-stub.js';
import { CANCEL, RETRY, START, step, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();
let stub: LlmStub;

beforeAll(async () => {
  stub = await startLlmStub();
  await w.h.configureLlm({
    llm: { ...stubProvider(stub) },
    planRateLimitPerMinute: 1_000,
    keyPrefix: `${w.h.pubsubPrefix}retry:`,
  });
});
afterAll(async () => {
  await w.h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: w.h.pubsubPrefix });
  await stub.close();
});

const stepOf = (workflow: any, key: string) => workflow.steps.find((s: any) => s.key === key);

describe('retryWorkflow', () => {
  it('reruns every step downstream of the retried one, succeeded ones too, in dependency order', async () => {
    stub.reset();
    stub.behave({ fail: { status: 400, message: 'bad request from the stub' } });
    const plan = await w.planWith(
      [
        step('r', 'RETRIEVE', { agentId: w.agents[0]!.id }),
        step('w', 'WRITE_SECTION', {
          dependsOn: ['r'],
          failurePolicy: 'SKIP',
          input: { title: 'Findings', description: 'd' },
        }),
        step('syn', 'SYNTHESIZE', { dependsOn: ['w'] }),
        step('after', 'NOOP', { dependsOn: ['syn'], input: { waitMs: 20_000 } }),
      ],
      { goal: 'retry downstream', planner: 'LOCAL' },
    );
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    await w.waitFor(
      async () => stepOf(await w.workflowOf(plan.id), 'after').status === 'RUNNING',
      'the slow step running',
    );
    const cancelled = (await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow;
    expect(cancelled.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['r', 'SUCCEEDED'],
      ['w', 'SKIPPED'],
      ['syn', 'SUCCEEDED'],
      ['after', 'CANCELLED'],
    ]);
    expect(stepOf(cancelled, 'syn').result.failedInputs).toEqual(['w']);
    expect(cancelled.artifact.markdown).not.toContain('STUB-SECTION');
    await w.h.stopWorkers();
    const before = (await w.workflowOf(plan.id)).events.at(-1).sequence;

    stub.behave({ fail: undefined });
    await w.gqlOk(RETRY, { id: plan.id, from: 'w' });
    const rows = await db().workflowStep.findMany({
      where: { workflowId: rowId(plan.id) },
      select: { key: true, status: true, waitingOn: true, attempts: true },
      orderBy: { position: 'asc' },
    });
    expect(rows).toEqual([
      { key: 'r', status: 'SUCCEEDED', waitingOn: 0, attempts: 1 },
      { key: 'w', status: 'READY', waitingOn: 0, attempts: 0 },
      { key: 'syn', status: 'PENDING', waitingOn: 1, attempts: 0 },
      { key: 'after', status: 'PENDING', waitingOn: 1, attempts: 0 },
    ]);

    await w.startWorker();
    // Its log read says so too: one query's fields are read one after another, so the steps
    // may be read a moment later than the log.
    const rerun = await w.waitFor(async () => {
      const workflow = await w.workflowOf(plan.id);
      const logged = workflow.events.some(
        (e: any) => e.sequence > before && e.stepKey === 'after' && e.status === 'RUNNING',
      );
      return stepOf(workflow, 'after').status === 'RUNNING' && logged ? workflow : undefined;
    }, 'the slow step running again');
    expect(stepOf(rerun, 'r')).toEqual(stepOf(cancelled, 'r'));
    expect(stepOf(rerun, 'w').status).toBe('SUCCEEDED');
    expect(stepOf(rerun, 'syn').status).toBe('SUCCEEDED');
    expect(stepOf(rerun, 'syn').result.failedInputs).toEqual([]);
    expect(rerun.artifact.markdown).toContain('STUB-SECTION');
    // After the retry, each step started only once what it depends on had succeeded.
    const after = rerun.events.filter((e: any) => e.sequence > before && e.kind === 'STEP');
    const at = (key: string, status: string) =>
      after.findIndex((e: any) => e.stepKey === key && e.status === status);
    expect(at('w', 'SUCCEEDED')).toBeGreaterThan(at('w', 'RUNNING'));
    expect(at('syn', 'RUNNING')).toBeGreaterThan(at('w', 'SUCCEEDED'));
    expect(at('after', 'RUNNING')).toBeGreaterThan(at('syn', 'SUCCEEDED'));
    expect(rerun.events.map((e: any) => e.sequence)).toEqual(
      rerun.events.map((_: unknown, i: number) => i + 1),
    );
    expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
  });
});
