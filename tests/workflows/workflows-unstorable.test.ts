// What a provider or an LLM's plan hands back that PostgreSQL would refuse does not stall the
// workflows: usage whose input and output tokens together pass the int range (each fits its
// column) is summed as bigint by the step commit that reads it (an overflow failed that commit
// and every retry of it, with the worker's claims inside it); a repair the reconciler cannot
// make is skipped, not the end of the pass on every worker; a plan with a NUL in its text is
// refused, so the planner falls back to the local plan instead of failing the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { reconcileWorkflows } from '../../src/services/workflows/reconcile.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { rowId } from '../utils/ids.js';
import { defaultReply, startLlmStub, stubProvider, type LlmStub } from '../utils/llm-stub.js';
import { PLAN, step, useWorkflows } from './fixture.js';

const w = useWorkflows();
let stub: LlmStub;

beforeAll(async () => {
  stub = await startLlmStub();
  await w.h.configureLlm({
    llm: {
      ...stubProvider(stub),
      prices: { inputPerMillionTokens: 3, outputPerMillionTokens: 15 },
    },
    planBudgetMs: 2_000,
    planRateLimitPerMinute: 1_000,
    keyPrefix: w.h.pubsubPrefix,
  });
});
afterAll(async () => {
  await w.h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: w.h.pubsubPrefix });
  await stub.close();
});

describe('what PostgreSQL would refuse', () => {
  it("commits a step whose calls' tokens sum past the int range, and the worker goes on", async () => {
    stub.reset();
    stub.behave({ usage: { input: 2_000_000_000, output: 2_000_000_000 } });
    await w.startWorker();
    const section = await w.startWith([
      step('write', 'WRITE_SECTION', { input: { title: 'T', description: 'd' } }),
    ]);
    await w.waitForStatus(section.id, ['SUCCEEDED']);
    const written = await db().workflowStep.findFirstOrThrow({
      where: { workflowId: rowId(section.id), key: 'write' },
    });
    expect((written.actual as { tokens: number }).tokens).toBe(4_000_000_000);
    const after = await w.startWith([step('n', 'NOOP')]);
    await w.waitForStatus(after.id, ['SUCCEEDED']);
  });

  it('skips a repair that fails and makes the others in the same pass', async () => {
    // No worker: the steps' tasks stay where this test puts them.
    await w.h.stopWorkers();
    const started = async () => {
      const flow = await w.startWith([step('n', 'NOOP')]);
      return db().workflowStep.findFirstOrThrow({ where: { workflowId: rowId(flow.id) } });
    };
    // A step whose task is dead (its settle fails: its workflow's events are refused below),
    // and one whose task is gone (dispatched again by the same pass).
    const dead = await started();
    await db().task.update({
      where: { id: dead.taskId! },
      data: { status: 'DEAD', error: 'provider 500', completedAt: new Date() },
    });
    const stalled = await started();
    await db().workflowStep.update({ where: { id: stalled.id }, data: { taskId: null } });
    await db().task.delete({ where: { id: stalled.taskId! } });
    await db().$executeRawUnsafe(`
      CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
      CREATE TRIGGER refuse_event BEFORE INSERT ON workflow_events FOR EACH ROW
        WHEN (NEW."workflowId" = '${dead.workflowId}') EXECUTE FUNCTION refuse_event();`);
    try {
      await reconcileWorkflows({ pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS }, 0);
      const redispatched = await db().workflowStep.findUniqueOrThrow({ where: { id: stalled.id } });
      expect(redispatched.taskId).not.toBeNull();
      const skipped = await db().workflow.findUniqueOrThrow({ where: { id: dead.workflowId } });
      expect(skipped.status).toBe('RUNNING');
    } finally {
      await db().$executeRawUnsafe(
        'DROP TRIGGER refuse_event ON workflow_events; DROP FUNCTION refuse_event();',
      );
    }
    // With the events let through, the next pass settles it.
    await reconcileWorkflows({ pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS }, 0);
    const settled = await db().workflow.findUniqueOrThrow({ where: { id: dead.workflowId } });
    expect(settled.status).toBe('FAILED');
  });

  it('falls back to the local plan when the LLM plan holds a NUL', async () => {
    const reply = JSON.stringify({
      steps: [
        { key: 'look', kind: 'RETRIEVE', agent: 'A1', dependsOn: [] },
        {
          key: 'write-it',
          kind: 'WRITE_SECTION',
          dependsOn: ['look'],
          title: 'F\u0000indings',
          description: 'd',
        },
        { key: 'brief', kind: 'SYNTHESIZE', dependsOn: ['write-it'] },
      ],
    });
    stub.reset();
    stub.behave({
      reply: (request) =>
        request.system.includes('You plan multi-agent workflows') ? reply : defaultReply(request),
    });
    const planned = await w.gqlOk(PLAN, {
      input: { goal: 'What do we know about embeddings?', agentIds: [w.agents[0]!.id] },
    });
    expect(planned.planWorkflow.fellBack).toBe(true);
  });
});
