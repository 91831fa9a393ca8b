// Every query and subscription field, with a selection of everything below it generated from
// the schema, run with real ids of every kind and with ids that name nothing: no result may
// carry an internal error or Pothos's "Prisma query was unused" (a nullable field with
// nothing to load answers null, legally).
import type { GraphQLField } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { operationFor, rootFields } from '../utils/selections.js';
import { listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
let app: TestApp;
const ids: Record<string, string> = {};
let version = '';

const UNKNOWN = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');

async function data(query: string, variables?: Record<string, unknown>) {
  const response = await h.gql(query, variables);
  expect(response.errors).toBeUndefined();
  return response.data;
}

beforeAll(async () => {
  app = await h.startApp();
  const corpus = await createCorpus(h);
  version = corpus.version;
  const agent = (
    await data(CreateAgentMutation as never, {
      input: { name: 'Everything', taxonomyVersion: version, taxonomyNodeIds: [corpus.nodeIds.ai] },
    })
  ).createAgentFromTaxonomy;
  await h.startWorker(app.pubsub);
  const task = (
    await data('mutation($id: ID!) { refreshCoverage(input: { agentId: $id }) { task { id } } }', {
      id: agent.id,
    })
  ).refreshCoverage.task;
  const template = (
    await data(
      'mutation { createTemplate(input: { name: "t", category: DOCS, content: "{{x}}", promptSystem: "## A\\n## B" }) { id } }',
    )
  ).createTemplate;
  const planned = (
    await data(
      'mutation($a: ID!, $t: ID!) { planTopic(input: { topic: "gradient descent", agentId: $a, templateId: $t }) { plan topic { id } } }',
      { a: agent.id, t: template.id },
    )
  ).planTopic;
  await data(
    'mutation($id: ID!, $plan: String!) { generateTopicReport(input: { topicId: $id, plan: $plan }) { id } }',
    { id: planned.topic.id, plan: planned.plan },
  );
  // Planned, never generated: its generation events are not final (their artifact is null).
  const plannedOnly = (
    await data('mutation { planTopic(input: { topic: "learning rates" }) { topic { id } } }')
  ).planTopic.topic;
  const topic = await waitFor(async () => {
    const read = (
      await data('query($id: ID!) { topic(id: $id) { status artifact { id } } }', {
        id: planned.topic.id,
      })
    ).topic;
    return read.status === 'COMPLETED' ? read : undefined;
  }, 'the report');
  await waitFor(
    async () =>
      (await data('query($id: ID!) { task(id: $id) { status } }', { id: task.id })).task.status ===
      'COMPLETED',
    'the coverage task',
  );
  const history = (
    await data(
      'query($id: ID!) { agent(id: $id) { coverageHistory(first: 1) { edges { node { id } } } } }',
      { id: agent.id },
    )
  ).agent;
  const taxonomy = (
    await data('query($v: String!) { taxonomy(version: $v) { id } }', { v: version })
  ).taxonomy;
  Object.assign(ids, {
    agent: agent.id,
    task: task.id,
    template: template.id,
    topic: planned.topic.id,
    plannedTopic: plannedOnly.id,
    artifact: topic.artifact.id,
    taxonomy: taxonomy.id,
    taxonomyNode: corpus.nodeIds.ai!,
    history: history.coverageHistory.edges[0].node.id,
    unknown: UNKNOWN,
    garbage: 'garbage',
  });
});

afterAll(() => h.stopWorkers());

/** The variables to try a root field with: every kind of id for its ID argument. */
function variableSets(field: GraphQLField<unknown, unknown>): Array<Record<string, unknown>> {
  const base: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (arg.name === 'version') base.version = version;
    if (arg.name === 'query') base.query = 'gradient';
  }
  const idArg = field.args.find((arg) => arg.type.toString() === 'ID!');
  return idArg ? Object.values(ids).map((id) => ({ ...base, [idArg.name]: id })) : [base];
}

/** Faults that are ours, in a result: what no request may ever show. */
function serverFaults(result: {
  errors?: ReadonlyArray<{ message: string; extensions?: { code?: unknown } }>;
}) {
  return (result.errors ?? []).filter(
    (error) =>
      error.extensions?.code === 'INTERNAL_SERVER_ERROR' || /unused|Internal/i.test(error.message),
  );
}

/** The deepest selection the operation limits accept (depth and cost grow with it). */
async function deepestAccepted(
  operation: 'query' | 'subscription',
  field: GraphQLField<unknown, unknown>,
): Promise<string> {
  for (let depth = 5; depth > 0; depth--) {
    const document = operationFor(operation, field, depth);
    if (!document) continue;
    const probe = await h.gql(
      operation === 'query' ? document : document.replace(/^subscription/, 'query'),
      variableSets(field)[0],
    );
    const limited = (probe.errors ?? []).some((error) =>
      /depth|cost|aliases|tokens/i.test(error.message),
    );
    if (!limited) return document;
  }
  throw new Error(`no selection of ${field.name} passes the operation limits`);
}

describe('every query field, with everything selected', () => {
  for (const field of rootFields(schema, 'query')) {
    it(field.name, async () => {
      const document = await deepestAccepted('query', field);
      for (const variables of variableSets(field)) {
        const result = await h.gql(document, variables);
        expect(serverFaults(result), `${field.name} ${JSON.stringify(variables)}`).toEqual([]);
      }
    });
  }
});

describe('every subscription field, with everything selected', () => {
  for (const field of rootFields(schema, 'subscription')) {
    it(field.name, async () => {
      const document = (await deepestAccepted('subscription', field)).replace(
        /^query/,
        'subscription',
      );
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
      h.onCleanup(() => client.dispose());
      for (const variables of variableSets(field)) {
        const results: any[] = [];
        // The first results (agentUpdated never ends by itself), or all of a stream that ends.
        const { done, unsubscribe } = listen<any>(client, document, variables, (result) =>
          results.push(result),
        );
        await Promise.race([
          done,
          waitFor(async () => results.length >= 2, 'results', 3_000).catch(() => undefined),
        ]);
        unsubscribe();
        expect(results.length, `${field.name} ${JSON.stringify(variables)}`).toBeGreaterThan(0);
        for (const result of results)
          expect(serverFaults(result), `${field.name} ${JSON.stringify(variables)}`).toEqual([]);
      }
    });
  }
});
