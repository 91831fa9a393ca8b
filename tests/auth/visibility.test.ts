// One caller never sees another's data. Alice owns a task (with a webhook and its deliveries),
// a topic with its report, and a private template; Bob, another user with the write scope,
// tries every path the schema has to them. The paths are read from the schema itself: a new
// field that reaches an owned type fails this test until it has a probe here.
import { getNamedType, isObjectType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { schema } from '../../src/schema/index.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { collect, sseClient } from '../utils/sse.js';

const h = useHarness();
const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

/** Types with an owner, and the types only reached through one of them. */
const OWNED = [
  'Task',
  'Topic',
  'Artifact',
  'Template',
  'ApiKey',
  'WebhookDelivery',
  'TaskEvent',
  'ArtifactFile',
];
/** Node types every key of a deployment shares (the README says so). */
const SHARED_NODES = ['Agent', 'CoverageHistoryEntry', 'Taxonomy', 'TaxonomyNode'];
const ROOTS = ['Query', 'Mutation', 'Subscription'];

/** Every field that returns an owned type (or a connection of one), as `Parent.field`. */
function pathsToOwnedTypes(): string[] {
  const paths: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type).name;
      if (OWNED.includes(named.replace(/(Connection|Edge)$/, '')))
        paths.push(`${type.name}.${field.name}`);
    }
  }
  return paths;
}

/** The entry points: root fields and fields of shared types. Everything else sits inside an owned object (its rule applies first). */
const isEntryPoint = (path: string) => {
  const parent = path.split('.')[0]!;
  return ROOTS.includes(parent) || SHARED_NODES.includes(parent);
};

interface Alice {
  key: string;
  agentId: string;
  taskId: string;
  topicId: string;
  artifactId: string;
  templateId: string;
  apiKeyId: string;
}

let alice: Alice;
let bob: string;
let app: TestApp;

beforeAll(async () => {
  app = await h.startApp();
  const mint = async (user: string) =>
    (
      await h.gql(
        'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id } } }',
        { input: { user, name: 'k', scopes: ['WRITE'] } },
      )
    ).data.createApiKey as { key: string; apiKey: { id: string } };
  const minted = await mint('alice-visibility');
  bob = (await mint('bob-visibility')).key;
  const key = minted.key;
  const corpus = await createCorpus(h);
  const agentId = (
    await h.gql(CreateAgentMutation, {
      input: {
        name: 'Shared agent',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai!],
      },
    })
  ).data!.createAgentFromTaxonomy.id;
  const refresh = await h.gql(
    'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, webhookUrl: "http://127.0.0.1:9/alice-secret-hook" }) { task { id } } }',
    { id: agentId },
    key,
  );
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
  const template = await h.gql(
    'mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }',
    {
      input: {
        name: 'alice-secret template',
        category: 'DOCS',
        content: 'alice-secret {{x}}',
        isPublic: false,
      },
    },
    key,
  );
  expect(template.errors).toBeUndefined();
  const artifactId = Buffer.from(`Artifact:${artifact.id}`).toString('base64');
  alice = {
    key,
    agentId,
    taskId,
    topicId,
    artifactId,
    templateId: template.data.createTemplate.id,
    apiKeyId: minted.apiKey.id,
  };
  // Alice herself sees all of it (else the probes below prove nothing).
  const own = await h.gql(
    `query($task: ID!, $topic: ID!, $template: ID!, $artifact: ID!) {
      task: node(id: $task) { id } topic: node(id: $topic) { id } template: node(id: $template) { id } artifact: node(id: $artifact) { id } }`,
    { task: taskId, topic: topicId, template: alice.templateId, artifact: artifactId },
    key,
  );
  expect(own.data).toEqual({
    task: { id: taskId },
    topic: { id: topicId },
    template: { id: alice.templateId },
    artifact: { id: artifactId },
  });
});

/** What Bob must never see: Alice's owned ids in data, her text anywhere. */
function expectNoLeak(response: { data?: unknown; errors?: unknown }, path: string) {
  const data = JSON.stringify(response.data ?? null);
  for (const id of [
    alice.taskId,
    alice.topicId,
    alice.artifactId,
    alice.templateId,
    alice.apiKeyId,
  ])
    expect(data, path).not.toContain(id);
  expect(JSON.stringify(response), path).not.toContain('alice-secret');
}

type Probe = () => Promise<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>;

const TASK_FIELDS =
  'id result webhookUrl webhookDeliveries { error } events(first: 5) { edges { node { message task { id } } } } topic { id topic }';
const TOPIC_FIELDS =
  'id topic plan task { id result } artifact { id markdown downloads { url filename } } template { id content }';
const TEMPLATE_FIELDS = 'id name content parent { id }';

const asBob =
  (query: string, variables: Record<string, unknown> = {}) =>
  () =>
    h.gql(query, variables, bob);
const subscribeAsBob = (query: string, variables: Record<string, unknown>) => async () => {
  const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: bob });
  try {
    const results = await collect(client, query, variables).catch((error: unknown) => [
      { errors: error },
    ]);
    return {
      data: results.map((r) => (r as { data?: unknown }).data ?? null),
      errors: results.flatMap(
        (r) =>
          ((r as { errors?: unknown[] }).errors ?? []) as Array<{ extensions?: { code?: string } }>,
      ),
    };
  } finally {
    client.dispose();
  }
};

/** One probe per entry point (root fields and shared types' fields reaching an owned type). */
const PROBES: Record<string, (a: Alice) => Probe> = {
  'Query.task': (a) =>
    asBob(`query($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id: a.taskId }),
  'Query.tasks': () =>
    asBob(`{ tasks(first: 10) { totalCount edges { node { ${TASK_FIELDS} } } } }`),
  'Query.topic': (a) =>
    asBob(`query($id: ID!) { topic(id: $id) { ${TOPIC_FIELDS} } }`, { id: a.topicId }),
  'Query.topics': () =>
    asBob(`{ topics(first: 100) { totalCount edges { node { ${TOPIC_FIELDS} } } } }`),
  'Query.template': (a) =>
    asBob(`query($id: ID!) { template(id: $id) { ${TEMPLATE_FIELDS} } }`, { id: a.templateId }),
  'Query.templates': () =>
    asBob(
      `{ templates(first: 100, search: "alice-secret") { totalCount edges { node { ${TEMPLATE_FIELDS} } } } }`,
    ),
  'Query.apiKeys': () => asBob('{ apiKeys { id name user } }'),
  'Agent.tasks': (a) =>
    asBob(
      `query($id: ID!) { agent(id: $id) { tasks(first: 10) { totalCount edges { node { ${TASK_FIELDS} } } } } }`,
      { id: a.agentId },
    ),
  'Mutation.cancelTask': (a) =>
    asBob(`mutation($id: ID!) { cancelTask(id: $id) { ${TASK_FIELDS} } }`, { id: a.taskId }),
  'Mutation.retryTask': (a) =>
    asBob(`mutation($id: ID!) { retryTask(id: $id) { ${TASK_FIELDS} } }`, { id: a.taskId }),
  'Mutation.generateTopicReport': (a) =>
    asBob(
      `mutation($id: ID!) { generateTopicReport(input: { topicId: $id, plan: "## One" }) { ${TOPIC_FIELDS} } }`,
      { id: a.topicId },
    ),
  'Mutation.updateTemplate': (a) =>
    asBob(
      `mutation($id: ID!) { updateTemplate(id: $id, input: { description: "x" }) { ${TEMPLATE_FIELDS} } }`,
      { id: a.templateId },
    ),
  'Mutation.rateTemplate': (a) =>
    asBob(`mutation($id: ID!) { rateTemplate(id: $id, stars: 5) { ${TEMPLATE_FIELDS} } }`, {
      id: a.templateId,
    }),
  'Mutation.forkTemplate': (a) =>
    asBob(`mutation($id: ID!) { forkTemplate(id: $id) { ${TEMPLATE_FIELDS} } }`, {
      id: a.templateId,
    }),
  'Mutation.setTemplateFlags': (a) =>
    asBob(
      `mutation($id: ID!) { setTemplateFlags(id: $id, isFeatured: true) { ${TEMPLATE_FIELDS} } }`,
      { id: a.templateId },
    ),
  // Bob's own template: nothing of Alice's comes back with it.
  'Mutation.createTemplate': () =>
    asBob(
      `mutation { createTemplate(input: { name: "bob's", category: DOCS, content: "x" }) { ${TEMPLATE_FIELDS} } }`,
    ),
  'Mutation.revokeApiKey': (a) =>
    asBob('mutation($id: ID!) { revokeApiKey(id: $id) { id name } }', { id: a.apiKeyId }),
  'Subscription.taskProgress': (a) =>
    subscribeAsBob(
      'subscription($id: ID!) { taskProgress(taskId: $id) { message task { id result } } }',
      { id: a.taskId },
    ),
};

/** Entry points that reach an owned type without an id of it: what they return is the caller's own by construction. */
const OWN_BY_CONSTRUCTION: Record<string, string> = {
  'Mutation.createApiKey': 'mints a key (ADMIN only) and returns it',
};

describe('visibility', () => {
  it('has a probe for every path the schema has to an owned type', () => {
    const entryPoints = pathsToOwnedTypes().filter(isEntryPoint);
    const unprobed = entryPoints.filter(
      (path) => !(path in PROBES) && !(path in OWN_BY_CONSTRUCTION),
    );
    expect(unprobed, 'add a probe for each').toEqual([]);
    const nodeTypes = schema
      .getPossibleTypes(schema.getType('Node') as never)
      .map((type) => type.name);
    expect(
      nodeTypes.filter((name) => !OWNED.includes(name) && !SHARED_NODES.includes(name)),
      'classify each Node type as owned or shared',
    ).toEqual([]);
  });

  it("gives a second user nothing of the first one's through node(id), for every owned Node type", async () => {
    const probes: Array<[string, string]> = [
      [alice.taskId, `... on Task { ${TASK_FIELDS} }`],
      [alice.topicId, `... on Topic { ${TOPIC_FIELDS} }`],
      [alice.artifactId, '... on Artifact { id markdown downloads { url } }'],
      [alice.templateId, `... on Template { ${TEMPLATE_FIELDS} }`],
    ];
    for (const [id, fragment] of probes) {
      const response = await h.gql(
        `query($id: ID!) { node(id: $id) { id ${fragment} } }`,
        { id },
        bob,
      );
      expect(response.errors).toBeUndefined();
      expect(response.data.node).toBeNull();
      expectNoLeak(response, `node(${id})`);
    }
    const owned = schema
      .getPossibleTypes(schema.getType('Node') as never)
      .filter((type) => OWNED.includes(type.name));
    expect(owned.map((type) => type.name).sort()).toEqual([
      'Artifact',
      'Task',
      'Template',
      'Topic',
    ]);
  });

  for (const [path, probe] of Object.entries(PROBES)) {
    it(`gives a second user nothing through ${path}`, async () => {
      const response = await probe(alice)();
      expectNoLeak(response, path);
      for (const error of response.errors ?? [])
        expect(['NOT_FOUND', 'FORBIDDEN'], `${path}: ${JSON.stringify(error)}`).toContain(
          error.extensions?.code,
        );
    });
  }

  it('refuses a second user the topic subscription and the report downloads (404, not 403)', async () => {
    const response = await subscribeAsBob(
      'subscription($id: ID!) { topicGeneration(topicId: $id) { topic { id topic } artifact { markdown } } }',
      { id: alice.topicId },
    )();
    expectNoLeak(response, 'Subscription.topicGeneration');
    expect(
      response.errors.map((error: { extensions?: { code?: string } }) => error.extensions?.code),
    ).toEqual(['NOT_FOUND']);
    const url = `${app.baseUrl}/artifacts/${encodeURIComponent(alice.artifactId)}/markdown`;
    const theirs = await fetch(url, { headers: { authorization: `Bearer ${bob}` } });
    expect(theirs.status).toBe(404);
    expect(await theirs.text()).not.toContain('alice');
    const mine = await fetch(url, { headers: { authorization: `Bearer ${alice.key}` } });
    expect(mine.status).toBe(200);
  });

  it('lets an admin see every task but no one else’s topic through it', async () => {
    const response = await h.gql(
      `query($id: ID!) { node(id: $id) { ... on Task { id topic { id } } } }`,
      { id: alice.taskId },
    );
    expect(response.data.node).toEqual({ id: alice.taskId, topic: null });
  });
});
