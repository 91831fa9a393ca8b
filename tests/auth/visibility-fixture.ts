// The world tests/auth/visibility.test.ts probes: Alice owns the team "acme", which holds one of
// everything (a taxonomy with documents, an agent with coverage history, a task with a webhook
// and its deliveries, a topic with its report, a private template, a pending invitation, her
// key). Bob is in another team; Vera is a VIEWER of acme (a READ key of acme, a WRITE key of
// her own team); Rita is a MEMBER of acme about to be removed (a key of acme, one of her own).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import type { Harness } from '../utils/harness.js';
import { createTeam, invite, join, mint } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

export interface World {
  teamId: string;
  version: string;
  agentId: string;
  nodeId: string;
  taxonomyId: string;
  documentId: string;
  historyId: string;
  taskId: string;
  topicId: string;
  artifactId: string;
  templateId: string;
  workflowId: string;
  invitationId: string;
  apiKeyId: string;
  /** Alice's LLM platform things: a vault key, a deployment (routed for PLAN), a budget, a metered call. */
  providerKeyId: string;
  deploymentId: string;
  budgetId: string;
  llmCallId: string;
  /** Alice's webhook endpoint, and one delivery to it. */
  webhookEndpointId: string;
  webhookDeliveryId: string;
  /** Alice's team's Slack-notifier plugin (a secret, a config, an endpoint of its own). */
  pluginId: string;
  pluginEndpointId: string;
  keys: {
    alice: string;
    bob: string;
    veraAcme: string;
    veraHome: string;
    ritaAcme: string;
    ritaHome: string;
  };
}

async function people(h: Harness) {
  const aliceHome = await mint(h, 'alice-vis', ['ADMIN']);
  const teamId = await createTeam(h, aliceHome.key, 'acme-vis');
  const alice = await mint(h, 'alice-vis', ['ADMIN'], teamId, aliceHome.key);
  const bob = await mint(h, 'bob-vis', ['WRITE']);
  const veraHome = await mint(h, 'vera-vis', ['WRITE']);
  await join(h, alice.key, teamId, veraHome.key, 'VIEWER');
  const veraAcme = await mint(h, 'vera-vis', ['READ'], teamId, veraHome.key);
  const ritaHome = await mint(h, 'rita-vis', ['WRITE']);
  await join(h, alice.key, teamId, ritaHome.key, 'MEMBER');
  const ritaAcme = await mint(h, 'rita-vis', ['WRITE'], teamId, ritaHome.key);
  return {
    teamId,
    alice,
    keys: {
      alice: alice.key,
      bob: bob.key,
      veraAcme: veraAcme.key,
      veraHome: veraHome.key,
      ritaAcme: ritaAcme.key,
      ritaHome: ritaHome.key,
    },
  };
}

async function agentWithHistory(h: Harness, key: string) {
  const corpus = await createCorpus(h, 'acme-tax-1', key);
  const agentId = (
    await h.gql(
      CreateAgentMutation,
      {
        input: {
          name: 'alice-secret agent',
          taxonomyVersion: corpus.version,
          taxonomyNodeIds: [corpus.nodeIds.ai!],
        },
      },
      key,
    )
  ).data!.createAgentFromTaxonomy.id;
  await h.gql(
    'query($id: ID!) { agent(id: $id) { coverage { overallCoverage } } }',
    { id: agentId },
    key,
  );
  const agent = await db().agent.findUniqueOrThrow({ where: { id: rowId(agentId) } });
  const history = await db().coverageHistory.findFirstOrThrow({ where: { agentId: agent.id } });
  const document = await db().document.findFirstOrThrow({
    where: { taxonomyId: agent.taxonomyId },
  });
  await db().document.update({
    where: { id: document.id },
    data: { title: 'alice-secret document' },
  });
  return {
    version: corpus.version,
    agentId,
    nodeId: corpus.nodeIds.ai!,
    taxonomyId: globalId('Taxonomy', agent.taxonomyId),
    documentId: document.id,
    historyId: globalId('CoverageHistoryEntry', history.id),
  };
}

async function taskWithDeliveries(h: Harness, key: string, agentId: string) {
  const refresh = await h.gql(
    'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, webhookUrl: "http://127.0.0.1:9/alice-secret-hook" }) { task { id } } }',
    { id: agentId },
    key,
  );
  expect(refresh.errors).toBeUndefined();
  const taskId = refresh.data.refreshCoverage.task.id;
  await db().task.update({
    where: { id: rowId(taskId) },
    data: { result: { note: 'alice-secret-result' } },
  });
  await db().webhookDelivery.create({
    data: {
      taskId: rowId(taskId),
      attempt: 1,
      url: 'http://127.0.0.1:9/alice-secret-hook',
      succeeded: false,
      error: 'alice-secret-delivery',
    },
  });
  return taskId;
}

async function topicWithReport(h: Harness, key: string, agentId: string, taskId: string) {
  const plan = await h.gql(
    'mutation($input: PlanTopicInput!) { planTopic(input: $input) { topic { id } } }',
    { input: { topic: 'alice-secret topic', agentId } },
    key,
  );
  const topicId = plan.data.planTopic.topic.id;
  const artifact = await db().artifact.create({
    data: {
      topicId: rowId(topicId),
      markdown: '# alice-secret report',
      files: {
        create: {
          format: 'markdown',
          contentType: 'text/markdown',
          filename: 'alice-secret.md',
          bytes: 5,
          data: Buffer.from('alice'),
        },
      },
    },
  });
  await db().topic.update({
    where: { id: rowId(topicId) },
    data: { status: 'COMPLETED', taskId: rowId(taskId) },
  });
  return { topicId, artifactId: globalId('Artifact', artifact.id) };
}

async function llmThings(h: Harness, key: string, teamId: string) {
  const providerKey = await h.gql(
    'mutation($t: ID!) { addProviderKey(input: { teamId: $t, kind: OPENAI_COMPATIBLE, name: "alice-secret key", secret: "sk-alice-secret-0123456789" }) { id } }',
    { t: teamId },
    key,
  );
  expect(providerKey.errors).toBeUndefined();
  const providerKeyId = providerKey.data.addProviderKey.id;
  const deployment = await h.gql(
    'mutation($t: ID!, $k: ID!) { createLlmDeployment(input: { teamId: $t, name: "alice-secret deployment", kind: OPENAI_COMPATIBLE, baseUrl: "http://127.0.0.1:9/v1", model: "alice-secret-model", providerKeyId: $k, inputUsdPerMTok: 1, outputUsdPerMTok: 2 }) { id } }',
    { t: teamId, k: providerKeyId },
    key,
  );
  expect(deployment.errors).toBeUndefined();
  const deploymentId = deployment.data.createLlmDeployment.id;
  const route = await h.gql(
    'mutation($t: ID!, $d: ID!) { setLlmRoute(input: { teamId: $t, service: WRITE, strategy: PRIORITY, deploymentIds: [$d], maxAttempts: 1 }) { id } }',
    { t: teamId, d: deploymentId },
    key,
  );
  expect(route.errors).toBeUndefined();
  const budget = await h.gql(
    'mutation($t: ID!) { setBudget(input: { scope: TEAM, targetId: $t, limitUsd: 5, period: MONTH }) { id } }',
    { t: teamId },
    key,
  );
  expect(budget.errors).toBeUndefined();
  const call = await db().llmCall.create({
    data: {
      id: crypto.randomUUID(),
      service: 'WRITE',
      deploymentId: rowId(deploymentId),
      provider: 'openai',
      model: 'alice-secret-model',
      teamId: rowId(teamId),
      attempt: 1,
      inputTokens: 10,
      outputTokens: 20,
      usageEstimated: false,
      costUsd: 0.00005,
      latencyMs: 10,
      outcome: 'OK',
      createdAt: new Date(),
    },
  });
  return {
    providerKeyId,
    deploymentId,
    budgetId: budget.data.setBudget.id,
    llmCallId: globalId('LlmCall', call.id),
  };
}

async function webhookThings(h: Harness, key: string, teamId: string) {
  const created = await h.gql(
    'mutation($t: ID!) { createWebhookEndpoint(input: { teamId: $t, url: "http://127.0.0.1:9/alice-secret-endpoint", eventTypes: ["task.completed"], description: "alice-secret endpoint" }) { endpoint { id } } }',
    { t: teamId },
    key,
  );
  expect(created.errors).toBeUndefined();
  const endpointId = created.data.createWebhookEndpoint.endpoint.id;
  const message = await db().webhookMessage.create({
    data: {
      teamId: rowId(teamId),
      endpointId: rowId(endpointId),
      eventType: 'task.completed',
      payload: { note: 'alice-secret-message' },
    },
  });
  const delivery = await db().webhookDelivery.create({
    data: {
      messageId: message.id,
      endpointId: rowId(endpointId),
      attempt: 1,
      url: 'http://127.0.0.1:9/alice-secret-endpoint',
      succeeded: false,
      error: 'alice-secret-endpoint-delivery',
    },
  });
  return {
    webhookEndpointId: endpointId,
    webhookDeliveryId: globalId('WebhookDelivery', delivery.id),
  };
}

/** The Slack-notifier example installed in acme, its secret and config naming Alice. */
async function pluginThings(h: Harness, key: string, teamId: string) {
  const manifest = JSON.parse(
    readFileSync(new URL('../../docs/examples/slack-notifier.json', import.meta.url), 'utf8'),
  );
  const installed = await h.gql(
    'mutation($input: InstallPluginInput!) { installPlugin(input: $input) { id webhookEndpoint { id } } }',
    {
      input: {
        teamId,
        manifest,
        grantedScopes: manifest.scopes,
        config: { channel: '#alice-secret' },
        secrets: [{ name: 'SLACK_WEBHOOK_URL', value: 'https://hooks.slack.com/alice-secret' }],
      },
    },
    key,
  );
  expect(installed.errors).toBeUndefined();
  return {
    pluginId: installed.data.installPlugin.id as string,
    pluginEndpointId: installed.data.installPlugin.webhookEndpoint.id as string,
  };
}

export async function buildWorld(h: Harness): Promise<World> {
  const { teamId, alice, keys } = await people(h);
  const agent = await agentWithHistory(h, keys.alice);
  const taskId = await taskWithDeliveries(h, keys.alice, agent.agentId);
  const topic = await topicWithReport(h, keys.alice, agent.agentId, taskId);
  const template = await h.gql(
    'mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }',
    {
      input: { name: 'alice-secret template', category: 'DOCS', content: 'alice-secret {{x}}' },
    },
    keys.alice,
  );
  expect(template.errors).toBeUndefined();
  const workflow = await h.gql(
    'mutation($a: ID!) { planWorkflow(input: { goal: "alice-secret goal", agentIds: [$a] }) { id } }',
    { a: agent.agentId },
    keys.alice,
  );
  expect(workflow.errors).toBeUndefined();
  const invitation = await invite(h, keys.alice, teamId, 'ADMIN');
  const llm = await llmThings(h, keys.alice, teamId);
  const webhooks = await webhookThings(h, keys.alice, teamId);
  const plugin = await pluginThings(h, keys.alice, teamId);
  return {
    ...webhooks,
    ...plugin,
    workflowId: workflow.data.planWorkflow.id,
    ...llm,
    teamId,
    ...agent,
    taskId,
    ...topic,
    templateId: template.data.createTemplate.id,
    invitationId: invitation.id,
    apiKeyId: alice.id,
    keys,
  };
}

/** Every id of Alice's world that another team must never see. */
export const secretIds = (world: World) => [
  world.teamId,
  world.agentId,
  world.nodeId,
  world.taxonomyId,
  world.documentId,
  world.historyId,
  world.taskId,
  world.topicId,
  world.artifactId,
  world.templateId,
  world.workflowId,
  world.invitationId,
  world.apiKeyId,
  world.providerKeyId,
  world.deploymentId,
  world.budgetId,
  world.llmCallId,
  world.webhookEndpointId,
  world.webhookDeliveryId,
  world.pluginId,
  world.pluginEndpointId,
];
