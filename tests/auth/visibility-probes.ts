// One probe per root field: the field asked about Alice's things (tests/auth/visibility-
// fixture.ts), with everything below it that reaches an owned type. `changes`: the mutation
// would change something of acme's, and what a VIEWER of acme gets for it (FORBIDDEN: it sees
// the thing; NOT_FOUND where a member sees only their own, as keys). `echoes`: Alice's ids the
// caller itself sent, which the answer may name back.
import type { World } from './visibility-fixture.js';

export interface Probe {
  kind: 'query' | 'mutation' | 'subscription';
  query: string;
  variables: (world: World) => Record<string, unknown>;
  changes?: 'FORBIDDEN' | 'NOT_FOUND';
  echoes?: (world: World) => string[];
}

const AGENT = `id name taxonomyNodes { id label } coverageHistory { edges { node { id } } }
  tasks { edges { node { id } } }`;
const TASK = `id result webhookUrl webhookDeliveries { error } agent { id name }
  events(first: 5) { edges { node { message task { id } } } } topic { id topic }`;
const TOPIC = `id topic plan agent { id } task { id result }
  artifact { id markdown downloads { url filename } } template { id content }`;
const TEMPLATE =
  'id name content parent { id } versions { edges { node { content } } } versionAt(version: 1) { content }';
const TEAM = 'id slug name viewerRole members { user role } invitations { id role invitedBy }';
const KEY = 'id name user team { id slug }';
const WORKFLOW = `id goal steps { key agent { id name } input result task { id } }
  artifact { id markdown } events { message }`;

const PLUGIN = `id name version kind enabled status grantedScopes scopes events consecutiveFailures
  secretNames config createdAt webhookEndpoint { id url eventTypes }`;

const ENDPOINT =
  'id url description eventTypes deliveries { edges { node { id url error webhookId } } }';

const query = (q: string, variables: Probe['variables'] = () => ({})): Probe => ({
  kind: 'query',
  query: q,
  variables,
});
const change = (q: string, variables: Probe['variables'], echoes?: Probe['echoes']): Probe => ({
  kind: 'mutation',
  query: q,
  variables,
  changes: 'FORBIDDEN',
  echoes,
});
const use = (q: string, variables: Probe['variables']): Probe => ({
  kind: 'mutation',
  query: q,
  variables,
});

export const PROBES: Record<string, Probe> = {
  'Query.agent': query(`query($id: ID!) { agent(id: $id) { ${AGENT} } }`, (w) => ({
    id: w.agentId,
  })),
  'Query.agents': query(`{ agents(first: 100) { totalCount edges { node { ${AGENT} } } } }`),
  'Query.taxonomy': query(
    'query($v: String!) { taxonomy(version: $v) { id nodes { id label } } }',
    (w) => ({ v: w.version }),
  ),
  'Query.queryAgent': query(
    'query($id: ID!) { queryAgent(agentId: $id, query: "gradient language") { hits { documentId title } } }',
    (w) => ({ id: w.agentId }),
  ),
  'Query.task': query(`query($id: ID!) { task(id: $id) { ${TASK} } }`, (w) => ({ id: w.taskId })),
  'Query.tasks': query(`{ tasks(first: 100) { totalCount edges { node { ${TASK} } } } }`),
  'Query.topic': query(`query($id: ID!) { topic(id: $id) { ${TOPIC} } }`, (w) => ({
    id: w.topicId,
  })),
  'Query.topics': query(`{ topics(first: 100) { totalCount edges { node { ${TOPIC} } } } }`),
  'Query.template': query(`query($id: ID!) { template(id: $id) { ${TEMPLATE} } }`, (w) => ({
    id: w.templateId,
  })),
  'Query.templates': query(
    `{ templates(first: 100, search: "alice-secret") { totalCount edges { node { ${TEMPLATE} } } } }`,
  ),
  'Query.templateDiff': query(
    'query($id: ID!) { templateDiff(id: $id, fromVersion: 1, toVersion: 1) { unified changelog } }',
    (w) => ({ id: w.templateId }),
  ),
  'Query.apiKeys': query(`query($t: ID) { apiKeys(teamId: $t) { ${KEY} } }`, (w) => ({
    t: w.teamId,
  })),
  'Query.team': query(`query($id: ID!) { team(id: $id) { ${TEAM} } }`, (w) => ({ id: w.teamId })),
  'Query.viewer': query(`{ viewer { user teams { ${TEAM} } team { ${TEAM} } } }`),
  'Query.queueStats': query('{ queueStats { pending running completed } }'),
  'Mutation.createAgentFromTaxonomy': use(
    'mutation($v: String!, $n: ID!) { createAgentFromTaxonomy(input: { name: "x", taxonomyVersion: $v, taxonomyNodeIds: [$n] }) { id taxonomyNodes { id } } }',
    (w) => ({ v: w.version, n: w.nodeId }),
  ),
  'Mutation.updateAgent': change(
    `mutation($id: ID!) { updateAgent(id: $id, input: { name: "hijacked" }) { ${AGENT} } }`,
    (w) => ({ id: w.agentId }),
  ),
  'Mutation.deleteAgent': change('mutation($id: ID!) { deleteAgent(id: $id) }', (w) => ({
    id: w.agentId,
  })),
  'Mutation.bulkUpdateAgents': change(
    'mutation($id: ID!) { bulkUpdateAgents(ids: [$id], input: { name: "hijacked" }) { applied results { id ok error } } }',
    (w) => ({ id: w.agentId }),
    (w) => [w.agentId],
  ),
  'Mutation.bulkDeleteAgents': change(
    'mutation($id: ID!) { bulkDeleteAgents(ids: [$id]) { applied results { id ok error } } }',
    (w) => ({ id: w.agentId }),
    (w) => [w.agentId],
  ),
  'Mutation.cloneAgent': use(`mutation($id: ID!) { cloneAgent(id: $id) { ${AGENT} } }`, (w) => ({
    id: w.agentId,
  })),
  'Mutation.refreshCoverage': change(
    'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false }) { coverage { nodes { node { id } } } } }',
    (w) => ({ id: w.agentId }),
  ),
  'Mutation.createTaxonomy': use(
    'mutation($v: String!) { createTaxonomy(input: { version: $v, name: "mine", nodes: [{ key: "a", label: "A" }] }) { id version } }',
    (w) => ({ v: w.version }),
  ),
  'Mutation.ingestDocuments': change(
    'mutation($v: String!, $n: ID!) { ingestDocuments(taxonomyVersion: $v, documents: [{ title: "x", content: "y", taxonomyNodeIds: [$n] }]) { documentIds } }',
    (w) => ({ v: w.version, n: w.nodeId }),
  ),
  'Mutation.deleteDocuments': change(
    'mutation($id: ID!) { deleteDocuments(ids: [$id]) { documentCount } }',
    (w) => ({ id: w.documentId }),
  ),
  'Mutation.cancelTask': change(`mutation($id: ID!) { cancelTask(id: $id) { ${TASK} } }`, (w) => ({
    id: w.taskId,
  })),
  'Mutation.retryTask': change(`mutation($id: ID!) { retryTask(id: $id) { ${TASK} } }`, (w) => ({
    id: w.taskId,
  })),
  'Mutation.planTopic': use(
    'mutation($a: ID!, $t: ID!) { planTopic(input: { topic: "x", agentId: $a, templateId: $t }) { topic { id agent { id } template { id } } } }',
    (w) => ({ a: w.agentId, t: w.templateId }),
  ),
  'Mutation.generateTopicReport': change(
    `mutation($id: ID!) { generateTopicReport(input: { topicId: $id, plan: "## One" }) { ${TOPIC} } }`,
    (w) => ({ id: w.topicId }),
  ),
  'Mutation.createTemplate': use(
    `mutation { createTemplate(input: { name: "mine", category: DOCS, content: "x" }) { ${TEMPLATE} } }`,
    () => ({}),
  ),
  'Mutation.updateTemplate': change(
    `mutation($id: ID!) { updateTemplate(id: $id, input: { description: "x" }) { ${TEMPLATE} } }`,
    (w) => ({ id: w.templateId }),
  ),
  'Mutation.deleteTemplate': change('mutation($id: ID!) { deleteTemplate(id: $id) }', (w) => ({
    id: w.templateId,
  })),
  'Mutation.forkTemplate': use(
    `mutation($id: ID!) { forkTemplate(id: $id) { ${TEMPLATE} } }`,
    (w) => ({
      id: w.templateId,
    }),
  ),
  'Mutation.renderTemplate': use(
    'mutation($id: ID!) { renderTemplate(id: $id, variables: { x: "1" }) { content template { id } } }',
    (w) => ({ id: w.templateId }),
  ),
  'Mutation.rateTemplate': use(
    `mutation($id: ID!) { rateTemplate(id: $id, stars: 5) { ${TEMPLATE} } }`,
    (w) => ({ id: w.templateId }),
  ),
  'Mutation.setTemplateFlags': change(
    `mutation($id: ID!) { setTemplateFlags(id: $id, isFeatured: true) { ${TEMPLATE} } }`,
    (w) => ({ id: w.templateId }),
  ),
  'Mutation.createApiKey': change(
    'mutation($t: ID!) { createApiKey(input: { user: "alice-vis", name: "x", scopes: [READ], teamId: $t }) { key apiKey { id team { id } } } }',
    (w) => ({ t: w.teamId }),
  ),
  'Mutation.revokeApiKey': {
    ...change(`mutation($id: ID!) { revokeApiKey(id: $id) { ${KEY} } }`, (w) => ({
      id: w.apiKeyId,
    })),
    changes: 'NOT_FOUND',
  },
  'Mutation.createTeam': use(
    'mutation { createTeam(input: { name: "x", slug: "acme-vis" }) { id } }',
    () => ({}),
  ),
  'Mutation.inviteToTeam': change(
    'mutation($t: ID!) { inviteToTeam(teamId: $t, role: VIEWER) { token invitation { id } } }',
    (w) => ({ t: w.teamId }),
  ),
  'Mutation.acceptTeamInvitation': use(
    `mutation { acceptTeamInvitation(token: "agi_not-a-token") { ${TEAM} } }`,
    () => ({}),
  ),
  // Invitations are seen by those who administer the team only (as keys): NOT_FOUND to the rest.
  'Mutation.revokeTeamInvitation': {
    ...change('mutation($id: ID!) { revokeTeamInvitation(id: $id) }', (w) => ({
      id: w.invitationId,
    })),
    changes: 'NOT_FOUND',
  },
  'Mutation.changeTeamMemberRole': change(
    'mutation($t: ID!) { changeTeamMemberRole(teamId: $t, user: "rita-vis", role: VIEWER) { user role } }',
    (w) => ({ t: w.teamId }),
  ),
  'Mutation.removeTeamMember': change(
    'mutation($t: ID!) { removeTeamMember(teamId: $t, user: "rita-vis") }',
    (w) => ({ t: w.teamId }),
  ),
  'Mutation.transferTeamOwnership': change(
    `mutation($t: ID!) { transferTeamOwnership(teamId: $t, user: "rita-vis") { ${TEAM} } }`,
    (w) => ({ t: w.teamId }),
  ),
  // Leaving needs no write: a VIEWER may leave (tests/teams); another team's is NOT_FOUND.
  'Mutation.leaveTeam': use('mutation($t: ID!) { leaveTeam(teamId: $t) }', (w) => ({
    t: w.teamId,
  })),
  'Query.workflow': query(`query($id: ID!) { workflow(id: $id) { ${WORKFLOW} } }`, (w) => ({
    id: w.workflowId,
  })),
  'Query.workflows': query(
    `{ workflows(first: 100) { totalCount edges { node { ${WORKFLOW} } } } }`,
  ),
  'Mutation.planWorkflow': use(
    `mutation($a: ID!) { planWorkflow(input: { goal: "x", agentIds: [$a] }) { ${WORKFLOW} } }`,
    (w) => ({ a: w.agentId }),
  ),
  'Mutation.runWorkflow': use(
    `mutation($a: ID!) { runWorkflow(input: { goal: "x", agentIds: [$a] }) { ${WORKFLOW} } }`,
    (w) => ({ a: w.agentId }),
  ),
  'Mutation.updateWorkflowPlan': change(
    `mutation($id: ID!) { updateWorkflowPlan(id: $id, planVersion: 1, steps: [{ key: "a", kind: "NOOP" }]) { ${WORKFLOW} } }`,
    (w) => ({ id: w.workflowId }),
  ),
  'Mutation.startWorkflow': change(
    `mutation($id: ID!) { startWorkflow(id: $id, planVersion: 1) { ${WORKFLOW} } }`,
    (w) => ({ id: w.workflowId }),
  ),
  'Mutation.cancelWorkflow': change(
    `mutation($id: ID!) { cancelWorkflow(id: $id) { ${WORKFLOW} } }`,
    (w) => ({ id: w.workflowId }),
  ),
  'Mutation.retryWorkflow': change(
    `mutation($id: ID!) { retryWorkflow(id: $id, fromStepKey: "retrieve-1") { ${WORKFLOW} } }`,
    (w) => ({ id: w.workflowId }),
  ),
  'Mutation.replanWorkflow': change(
    `mutation($id: ID!) { replanWorkflow(id: $id, planVersion: 1, hint: "x") { ${WORKFLOW} } }`,
    (w) => ({ id: w.workflowId }),
  ),
  'Subscription.workflowProgress': {
    kind: 'subscription',
    query: 'subscription($id: ID!) { workflowProgress(workflowId: $id) { sequence kind message } }',
    variables: (w) => ({ id: w.workflowId }),
  },
  'Query.providerKeys': query('{ providerKeys { id name hint fingerprint teamId } }'),
  'Query.llmDeployments': query(
    '{ llmDeployments { id name model baseUrl teamId providerKeyId } }',
  ),
  'Query.llmRoutes': query('{ llmRoutes { id teamId deploymentIds } }'),
  'Query.llmCalls': query(
    '{ llmCalls(first: 100) { edges { node { id model deployment { id name } } } } }',
  ),
  'Query.llmUsage': query(
    'query($from: DateTime!, $to: DateTime!) { llmUsage(from: $from, to: $to, groupBy: [DEPLOYMENT, MODEL, API_KEY]) { key calls deployment { id name } } }',
    () => ({
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    }),
  ),
  'Query.routingSnapshot': query(
    'query($t: ID!) { routingSnapshot(service: WRITE, teamId: $t) { candidates { deployment { id name } } } }',
    (w) => ({ t: w.teamId }),
  ),
  'Query.budgets': query('{ budgets { id targetId limitUsd } }'),
  'Query.webhookEndpoints': query(
    `query($t: ID) { webhookEndpoints(teamId: $t) { ${ENDPOINT} } }`,
    (w) => ({ t: w.teamId }),
  ),
  'Query.webhookEndpoint': query(
    `query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT} } }`,
    (w) => ({ id: w.webhookEndpointId }),
  ),
  'Mutation.createWebhookEndpoint': change(
    'mutation($t: ID!) { createWebhookEndpoint(input: { teamId: $t, url: "http://127.0.0.1:9/x", eventTypes: ["task.dead"] }) { secret endpoint { id } } }',
    (w) => ({ t: w.teamId }),
    (w) => [w.teamId],
  ),
  'Mutation.updateWebhookEndpoint': change(
    `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: "http://127.0.0.1:9/hijack" }) { ${ENDPOINT} } }`,
    (w) => ({ id: w.webhookEndpointId }),
  ),
  'Mutation.deleteWebhookEndpoint': change(
    'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }',
    (w) => ({ id: w.webhookEndpointId }),
  ),
  'Mutation.rotateWebhookEndpointSecret': change(
    'mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret endpoint { id url } } }',
    (w) => ({ id: w.webhookEndpointId }),
  ),
  'Mutation.redeliverWebhook': change(
    'mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { webhookId task { id } } }',
    (w) => ({ id: w.webhookDeliveryId }),
  ),
  'Mutation.addProviderKey': change(
    'mutation($t: ID!) { addProviderKey(input: { teamId: $t, kind: ANTHROPIC, name: "x", secret: "sk-x-0123456789abcdef" }) { id teamId } }',
    (w) => ({ t: w.teamId }),
    (w) => [w.teamId],
  ),
  'Mutation.rotateProviderKey': change(
    'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-hijack-0123456789") { id name hint } }',
    (w) => ({ id: w.providerKeyId }),
  ),
  'Mutation.revokeProviderKey': change(
    'mutation($id: ID!) { revokeProviderKey(id: $id) { id name } }',
    (w) => ({ id: w.providerKeyId }),
  ),
  'Mutation.rewrapProviderKeys': change('mutation { rewrapProviderKeys }', () => ({})),
  'Mutation.createLlmDeployment': change(
    'mutation($t: ID!) { createLlmDeployment(input: { teamId: $t, name: "x", kind: LOCAL }) { id teamId } }',
    (w) => ({ t: w.teamId }),
    (w) => [w.teamId],
  ),
  'Mutation.updateLlmDeployment': change(
    'mutation($id: ID!) { updateLlmDeployment(id: $id, input: { model: "hijacked" }) { id name } }',
    (w) => ({ id: w.deploymentId }),
  ),
  'Mutation.deleteLlmDeployment': change(
    'mutation($id: ID!) { deleteLlmDeployment(id: $id) { id name } }',
    (w) => ({ id: w.deploymentId }),
  ),
  'Mutation.setLlmRoute': change(
    'mutation($t: ID!, $d: ID!) { setLlmRoute(input: { teamId: $t, service: PLAN, strategy: PRIORITY, deploymentIds: [$d] }) { id deploymentIds } }',
    (w) => ({ t: w.teamId, d: w.deploymentId }),
    (w) => [w.teamId, w.deploymentId],
  ),
  'Mutation.setBudget': change(
    'mutation($t: ID!) { setBudget(input: { scope: TEAM, targetId: $t, limitUsd: 0, period: DAY }) { id targetId } }',
    (w) => ({ t: w.teamId }),
    (w) => [w.teamId],
  ),
  'Query.plugins': query(`query($t: ID) { plugins(teamId: $t) { ${PLUGIN} } }`, (w) => ({
    t: w.teamId,
  })),
  'Query.plugin': query(`query($id: ID!) { plugin(id: $id) { ${PLUGIN} } }`, (w) => ({
    id: w.pluginId,
  })),
  'Query.presence': query(
    'query($id: ID!) { presence(channel: TOPIC, id: $id) { user since } }',
    (w) => ({ id: w.topicId }),
  ),
  'Mutation.installPlugin': change(
    `mutation($t: ID!, $m: JSON!) { installPlugin(input: { teamId: $t, manifest: $m, grantedScopes: [], config: {} }) { ${PLUGIN} } }`,
    (w) => ({
      t: w.teamId,
      m: { name: 'probe', version: '1.0.0', kind: 'TOOL', scopes: [], events: [] },
    }),
    (w) => [w.teamId],
  ),
  'Mutation.updatePluginInstallation': change(
    `mutation($id: ID!) { updatePluginInstallation(id: $id, input: { enabled: false }) { ${PLUGIN} } }`,
    (w) => ({ id: w.pluginId }),
  ),
  'Mutation.uninstallPlugin': change('mutation($id: ID!) { uninstallPlugin(id: $id) }', (w) => ({
    id: w.pluginId,
  })),
  'Mutation.testPlugin': change(
    'mutation($id: ID!) { testPlugin(id: $id, eventType: "report.completed") { status } }',
    (w) => ({ id: w.pluginId }),
  ),
  'Mutation.runPluginTool': change(
    'mutation($id: ID!) { runPluginTool(id: $id, input: { city: "x" }) { output status } }',
    (w) => ({ id: w.pluginId }),
  ),
  'Subscription.presence': {
    kind: 'subscription',
    query:
      'subscription($id: ID!) { presence(channel: TOPIC, id: $id) { members { user } joined } }',
    variables: (w) => ({ id: w.topicId }),
  },
  'Subscription.taskProgress': {
    kind: 'subscription',
    query: 'subscription($id: ID!) { taskProgress(taskId: $id) { message task { id result } } }',
    variables: (w) => ({ id: w.taskId }),
  },
  'Subscription.topicGeneration': {
    kind: 'subscription',
    query:
      'subscription($id: ID!) { topicGeneration(topicId: $id) { topic { id topic } artifact { markdown } } }',
    variables: (w) => ({ id: w.topicId }),
  },
  'Subscription.agentUpdated': {
    kind: 'subscription',
    query: 'subscription($id: ID!) { agentUpdated(id: $id) { id name } }',
    variables: (w) => ({ id: w.agentId }),
  },
  'Subscription.agentQueryStream': {
    kind: 'subscription',
    query:
      'subscription($id: ID!) { agentQueryStream(agentId: $id, query: "gradient") { __typename ... on QueryHit { hit { title } } ... on QueryFailed { code } } }',
    variables: (w) => ({ id: w.agentId }),
  },
};
