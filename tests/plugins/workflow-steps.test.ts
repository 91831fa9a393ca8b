// Plugins as workflow steps, run by a real worker: a PLUGIN_TOOL step runs the documented
// weather tool against its local stand-in, a PLUGIN_AGENT step after it sends its rendered
// prompt through the LLM platform (the local LLM stub as the team's WRITE route), metered as
// the workflow's call; a step whose input its plugin refuses fails once, not retried; a plan
// naming no installation is refused when it is written.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { publicId } from '../../src/platform/public-ids.js';
import { startLlmStub, stubProvider, type LlmStub } from '../utils/llm-stub.js';
import { PLAN, START, step, UPDATE, useWorkflows } from '../workflows/fixture.js';
import { rowId } from '../utils/ids.js';
import { example, install, standIn, type StandIn } from './fixture.js';

const w = useWorkflows();
const { h } = w;
let stub: LlmStub;
let stand: StandIn;

const ADVISOR = {
  name: 'umbrella-advisor',
  version: '1.0.0',
  kind: 'AGENT',
  scopes: ['llm:write'],
  input: {
    type: 'object',
    properties: { question: { type: 'string' } },
    required: ['question'],
  },
  prompt: 'Answer in one line: {{input.question}}',
  service: 'WRITE',
};

beforeAll(async () => {
  stub = await startLlmStub();
  stub.behave({ reply: () => 'Take an umbrella.' });
  await h.configureLlm({
    llm: {
      ...stubProvider(stub),
      prices: { inputPerMillionTokens: 3, outputPerMillionTokens: 15 },
    },
    planRateLimitPerMinute: 1_000,
    keyPrefix: h.pubsubPrefix,
  });
  stand = await standIn(h);
  h.webhooks.pluginOriginOverrides = { 'https://api.example.com': stand.origin };
});
afterAll(async () => {
  await h.configureLlm({ planRateLimitPerMinute: 1_000, keyPrefix: h.pubsubPrefix });
  await stub.close();
});

const installed = new Map<string, { tool: string; agent: string }>();

/** A planned workflow of alice's, the team it belongs to, and the two plugins installed there. */
async function planned(goal: string) {
  const { planWorkflow } = await w.gqlOk(PLAN, {
    input: { goal, agentIds: [w.agents[0]!.id], planner: 'LOCAL' },
  });
  const row = await db().workflow.findUniqueOrThrow({ where: { id: rowId(planWorkflow.id) } });
  const teamId = publicId('Team', row.teamId);
  if (!installed.has(teamId)) {
    const tool = await install(h, h.adminKey, {
      teamId,
      manifest: example('weather-tool'),
      grantedScopes: example('weather-tool').scopes,
      secrets: [{ name: 'WEATHER_API_KEY', value: 'wk-steps' }],
    });
    const agent = await install(h, h.adminKey, {
      teamId,
      manifest: ADVISOR,
      grantedScopes: ['llm:write'],
    });
    installed.set(teamId, { tool: tool.id, agent: agent.id });
  }
  const { tool, agent } = installed.get(teamId)!;
  return { workflow: planWorkflow, tool, agent, row };
}

describe('plugin workflow steps', () => {
  it('runs a PLUGIN_TOOL step, then a PLUGIN_AGENT step through the LLM platform', async () => {
    const { workflow, tool, agent, row } = await planned('Do I need an umbrella in Seoul?');
    const { updateWorkflowPlan } = await w.gqlOk(UPDATE, {
      id: workflow.id,
      v: workflow.planVersion,
      steps: [
        step('weather', 'PLUGIN_TOOL', {
          input: { installationId: tool, input: { city: 'Seoul' } },
        }),
        step('advice', 'PLUGIN_AGENT', {
          dependsOn: ['weather'],
          input: { installationId: agent, input: { question: 'Umbrella in Seoul today?' } },
        }),
      ],
    });
    await w.gqlOk(START, { id: workflow.id, v: updateWorkflowPlan.planVersion });
    await w.startWorker();
    const done = await w.waitForStatus(workflow.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    const [weather, advice] = done.steps;
    expect(weather.result).toMatchObject({
      plugin: 'weather',
      status: 200,
      output: { city: 'Seoul', temperatureC: 21 },
    });
    expect(stand.received.at(-1)!.headers.authorization).toBe('Bearer wk-steps');
    expect(advice.result).toMatchObject({ plugin: 'umbrella-advisor', text: 'Take an umbrella.' });
    expect(stub.requests.at(-1)!.user).toBe('Answer in one line: Umbrella in Seoul today?');
    // Metered as the workflow's call of its team.
    const calls = await db().llmCall.findMany({ where: { workflowId: row.id } });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ teamId: row.teamId, service: 'WRITE', outcome: 'OK' });
  });

  it('fails a step whose input its plugin refuses, once, and refuses a step naming no plugin', async () => {
    const { workflow, tool } = await planned('Weather without a city');
    const missing = await h.gql(
      UPDATE,
      {
        id: workflow.id,
        v: workflow.planVersion,
        steps: [step('weather', 'PLUGIN_TOOL', { input: {} })],
      },
      w.keys.alice,
    );
    expect(missing.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      stepField: 'input.installationId',
    });
    // A plugin that is not the team's (another team's, or none): refused as the plan is stored.
    const foreign = await h.gql(
      UPDATE,
      {
        id: workflow.id,
        v: workflow.planVersion,
        steps: [
          step('weather', 'PLUGIN_TOOL', {
            input: {
              installationId: Buffer.from(`PluginInstallation:${randomUUID()}`).toString('base64'),
              input: { city: 'Seoul' },
            },
          }),
        ],
      },
      w.keys.alice,
    );
    expect(foreign.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UNKNOWN_PLUGIN',
      stepKey: 'weather',
    });
    const { updateWorkflowPlan } = await w.gqlOk(UPDATE, {
      id: workflow.id,
      v: workflow.planVersion,
      steps: [
        step('weather', 'PLUGIN_TOOL', {
          input: { installationId: tool, input: { town: 'Seoul' } },
        }),
      ],
    });
    await w.gqlOk(START, { id: workflow.id, v: updateWorkflowPlan.planVersion });
    await w.startWorker();
    const done = await w.waitForStatus(workflow.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('FAILED');
    expect(done.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(done.steps[0].error).toContain('input.city');
  });
});
