// What every workflow test file starts from: the harness (its app on Redis pub/sub
// when there is one), a corpus and agents in the `default` team, keys for alice and bob (each
// in a team of their own, both members of `default`), workers stopped after each test, and
// helpers to plan, run and wait for workflows through the API.
import { afterEach, beforeAll, expect } from 'vitest';
import { CreateAgentMutation, CreateApiKeyMutation } from '../client/operations.js';
import { createCorpus, type Corpus } from '../utils/corpus.js';
import {
  redisAvailable,
  useHarness,
  type TestApp,
  type WorkerOverrides,
} from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import { db } from '../../src/platform/db.js';
import { rowId } from '../utils/ids.js';

export const WORKFLOW_FIELDS = `id status goal planVersion planner fellBack progressPercent error
  estimate { seconds tokens costUsd } actual { seconds tokens costUsd } criticalPath criticalPathSeconds
  constraintViolations { constraint limit estimate message }
  artifact { id markdown downloads { format url bytes } }
  steps { key kind status dependsOn attempts error result complexity agent { id name } estimate { seconds tokens costUsd } actual { seconds } task { id status } }`;

export const PLAN = `mutation($input: PlanWorkflowInput!) { planWorkflow(input: $input) { ${WORKFLOW_FIELDS} } }`;
export const RUN = `mutation($input: PlanWorkflowInput!, $key: String) { runWorkflow(input: $input, idempotencyKey: $key) { ${WORKFLOW_FIELDS} } }`;
export const START = `mutation($id: ID!, $v: Int!, $key: String) { startWorkflow(id: $id, planVersion: $v, idempotencyKey: $key) { ${WORKFLOW_FIELDS} } }`;
export const UPDATE = `mutation($id: ID!, $v: Int!, $steps: [WorkflowStepInput!]!) { updateWorkflowPlan(id: $id, planVersion: $v, steps: $steps) { ${WORKFLOW_FIELDS} } }`;
export const CANCEL = `mutation($id: ID!) { cancelWorkflow(id: $id) { ${WORKFLOW_FIELDS} } }`;
export const RETRY = `mutation($id: ID!, $from: String!) { retryWorkflow(id: $id, fromStepKey: $from) { ${WORKFLOW_FIELDS} } }`;
export const REPLAN = `mutation($id: ID!, $v: Int!, $hint: String) { replanWorkflow(id: $id, planVersion: $v, hint: $hint) { ${WORKFLOW_FIELDS} } }`;
export const WORKFLOW = `query($id: ID!) { workflow(id: $id) { ${WORKFLOW_FIELDS} events(first: 500) { sequence kind stepKey status progressPercent message } } }`;
export const PROGRESS = `subscription($id: ID!, $after: Int) { workflowProgress(workflowId: $id, afterSequence: $after) { sequence kind stepKey status progressPercent message at } }`;

/** A step as updateWorkflowPlan takes it. */
export const step = (key: string, kind: string, fields: Record<string, unknown> = {}) => ({
  key,
  kind,
  ...fields,
});

export function useWorkflows() {
  const h = useHarness();
  afterEach(() => h.stopWorkers());
  const t = {
    h,
    keys: {} as Record<string, string>,
    agents: [] as Array<{ id: string; name: string }>,
  } as {
    h: typeof h;
    app: TestApp;
    corpus: Corpus;
    keys: Record<string, string>;
    agents: Array<{ id: string; name: string }>;
  };

  async function mintKey(user: string, scopes = ['WRITE']): Promise<string> {
    const minted = await h.gql(CreateApiKeyMutation, { input: { user, name: 'k', scopes } });
    expect(minted.errors).toBeUndefined();
    return minted.data!.createApiKey.key;
  }

  async function createAgent(name: string, nodes: string[]) {
    const response = await h.gql(CreateAgentMutation, {
      input: {
        name,
        taxonomyVersion: t.corpus.version,
        taxonomyNodeIds: nodes.map((key) => t.corpus.nodeIds[key]),
      },
    });
    expect(response.errors).toBeUndefined();
    return { id: response.data!.createAgentFromTaxonomy.id as string, name };
  }

  const startWorker = (overrides: WorkerOverrides = {}) => h.startWorker(t.app.pubsub, overrides);

  async function gqlOk<T = any>(
    query: string,
    variables: Record<string, unknown>,
    key = t.keys.alice!,
  ) {
    const response = await h.gql<T>(query, variables, key);
    expect(response.errors).toBeUndefined();
    return response.data as any;
  }

  const workflowOf = async (id: string, key = t.keys.alice!) =>
    (await gqlOk(WORKFLOW, { id }, key)).workflow;

  /**
   * A workflow planned (`input` beside a goal and no agents) and edited to `steps`: PLANNED at
   * plan version 2, as updateWorkflowPlan answers.
   */
  async function planWith(
    steps: object[],
    input: Record<string, unknown> = {},
    key = t.keys.alice!,
  ) {
    const planned = (
      await gqlOk(PLAN, { input: { goal: 'a workflow to run', agentIds: [], ...input } }, key)
    ).planWorkflow;
    return (await gqlOk(UPDATE, { id: planned.id, v: planned.planVersion, steps }, key))
      .updateWorkflowPlan;
  }

  /** planWith, then started: RUNNING, as startWorkflow answers. */
  async function startWith(
    steps: object[],
    input: Record<string, unknown> = {},
    key = t.keys.alice!,
  ) {
    const edited = await planWith(steps, input, key);
    return (await gqlOk(START, { id: edited.id, v: edited.planVersion }, key)).startWorkflow;
  }

  /** A workflow's rows as the database has them (a timed-out wait says where it stood). */
  async function workflowState(globalId: string): Promise<string> {
    const id = rowId(globalId);
    const workflow = await db().workflow.findUnique({
      where: { id },
      select: { status: true, planVersion: true, replans: true, replanTaskId: true },
    });
    const steps = await db().workflowStep.findMany({
      where: { workflowId: id },
      select: { key: true, status: true, waitingOn: true, taskId: true },
      orderBy: { position: 'asc' },
    });
    const taskIds = [
      ...steps.flatMap((step) => step.taskId ?? []),
      ...(workflow?.replanTaskId ? [workflow.replanTaskId] : []),
    ];
    const tasks = await db().task.findMany({
      where: { OR: [{ id: { in: taskIds } }, { payload: { path: ['workflowId'], equals: id } }] },
      select: { id: true, type: true, status: true, attempts: true, error: true, runAt: true },
    });
    return JSON.stringify({ workflow, steps, tasks });
  }

  const waitForStatus = (id: string, statuses: string[], key = t.keys.alice!, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const workflow = await workflowOf(id, key);
        return statuses.includes(workflow?.status) ? workflow : undefined;
      },
      `workflow ${statuses.join('/')}`,
      timeoutMs,
      () => workflowState(id),
    );

  beforeAll(async () => {
    t.app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
    await h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: h.pubsubPrefix });
    t.corpus = await createCorpus(h);
    t.agents.push(
      await createAgent('Machine learning', ['ml', 'nlp']),
      await createAgent('Databases', ['db']),
    );
    for (const user of ['alice', 'bob']) t.keys[user] = await mintKey(user);
  });

  return Object.assign(t, {
    mintKey,
    createAgent,
    startWorker,
    gqlOk,
    workflowOf,
    planWith,
    startWith,
    waitForStatus,
    waitFor,
  });
}
