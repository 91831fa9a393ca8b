// Hostile input for every argument of every field, generated from the schema: each request
// sets one argument (or one field of an input argument) to a hostile value and every other
// one to a plausible value. No answer may be a 5xx, an INTERNAL_SERVER_ERROR, an error
// without a code, or carry a stack trace or an internal message; the server stays healthy.
import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

// Too deep for JSON.stringify: placeholders, written out in the request body (see body()).
const deep = '\u0001DEEP_JSON\u0001';
const deepList = '\u0001DEEP_LIST\u0001';
const RAW: Record<string, string> = {
  [JSON.stringify(deep)]: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  [JSON.stringify(deepList)]: `${'['.repeat(3_000)}"x"${']'.repeat(3_000)}`,
};
const body = (request: { query: string; variables: unknown }) =>
  Object.entries(RAW).reduce(
    (text, [placeholder, raw]) => text.split(placeholder).join(raw),
    JSON.stringify(request),
  );

/** Hostile values for a position of this (named) input type. */
function hostileValues(type: GraphQLInputType): unknown[] {
  const named = getNamedType(type);
  const common: unknown[] = [null, deepList, { nested: true }];
  if (isListType(getNullableType(type)))
    common.push(
      'not a list',
      Array.from({ length: 5_000 }, () => 'x'),
    );
  if (isEnumType(named)) return [...common, 'NOT_A_VALUE', '', 1];
  if (isInputObjectType(named)) return [...common, 'a string', 42, {}];
  switch (named.name) {
    case 'String':
    case 'ID':
      return [
        ...common,
        '',
        'a\u0000b',
        '\ud800',
        'x\udfffy',
        'x'.repeat(100_001),
        "' OR 1=1 --",
        '%s%n%x',
        42,
        true,
        '!!!not-base64!!!',
        globalId('Task', 'not-a-uuid'),
        globalId('Topic', randomUUID()),
        globalId('Nope', randomUUID()),
      ];
    case 'Int':
      return [...common, -1, 0, -2_147_483_648, 2_147_483_647, 2 ** 31, 1e308, 1.5, 'ten'];
    case 'Float':
      return [...common, -1e308, 1e308, -0.0001, 'ten'];
    case 'Boolean':
      return [...common, 'yes', 0];
    case 'DateTime':
      return [
        ...common,
        'not a date',
        '9999-99-99T99:99:99Z',
        '',
        -1,
        '0001-01-01T00:00:00Z',
        '275760-09-13T00:00:00.001Z',
      ];
    case 'JSON':
      return [
        ...common,
        deep,
        { '\u0000': 1 },
        { key: '\ud800' },
        'x'.repeat(200_000),
        Array.from({ length: 20_000 }, (_, i) => i),
      ];
    default:
      return common;
  }
}

/** Real objects, so that a request with one hostile value gets past the others. */
interface Fixture {
  ids: Record<'Agent' | 'TaxonomyNode' | 'Template' | 'Topic' | 'Task' | 'ApiKey', string>;
  taxonomyVersion: string;
}

/** Which object an ID position means, by its field and argument name. */
function idFor(fixture: Fixture, field: string, name: string): string {
  const { ids } = fixture;
  if (name === 'taxonomyNodeIds') return ids.TaxonomyNode;
  if (name === 'agentId') return ids.Agent;
  if (name === 'templateId') return ids.Template;
  if (name === 'topicId') return ids.Topic;
  if (name === 'taskId') return ids.Task;
  if (/Template/i.test(field)) return ids.Template;
  if (/Task/i.test(field)) return ids.Task;
  if (/topic/i.test(field)) return ids.Topic;
  if (/ApiKey/.test(field)) return ids.ApiKey;
  return ids.Agent;
}

/** A value of this type that a resolver would accept, as far as a generated value can. */
function plausible(type: GraphQLInputType, fixture: Fixture, field: string, name: string): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [plausible(nullable.ofType, fixture, field, name)];
  if (isEnumType(nullable)) return nullable.getValues()[0]!.name;
  if (isInputObjectType(nullable)) {
    return Object.fromEntries(
      Object.values(nullable.getFields())
        .filter((each) => isNonNullType(each.type))
        .map((each) => [each.name, plausible(each.type, fixture, field, each.name)]),
    );
  }
  if (isScalarType(nullable)) {
    if (nullable.name === 'ID') return idFor(fixture, field, name);
    if (name === 'taxonomyVersion' || name === 'version') return fixture.taxonomyVersion;
    return (
      {
        String: 'fuzz',
        Int: 1,
        Float: 1,
        Boolean: true,
        DateTime: new Date().toISOString(),
        JSON: {},
      }[nullable.name] ?? null
    );
  }
  return null;
}

/** A selection that asks for no more than the field's identity (or its __typename). */
function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isScalarType(named) || isEnumType(named) ? '' : '{ __typename }';
}

/** Every argument (and every field of an input argument) of the field, one hostile value at a time. */
function* requestsFor(
  operation: 'query' | 'mutation' | 'subscription',
  field: GraphQLField<unknown, unknown>,
  fixture: Fixture,
) {
  const definitions = field.args.map((arg) => `$${arg.name}: ${arg.type}`).join(', ');
  const uses = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const query = `${operation}${definitions ? `(${definitions})` : ''} { ${field.name}${uses ? `(${uses})` : ''} ${selection(field)} }`;
  const base = () =>
    Object.fromEntries(
      field.args.map((arg: GraphQLArgument) => [
        arg.name,
        plausible(arg.type, fixture, field.name, arg.name),
      ]),
    );
  for (const arg of field.args) {
    for (const value of hostileValues(arg.type))
      yield { query, variables: { ...base(), [arg.name]: value } };
    const input = getNamedType(arg.type);
    if (!isInputObjectType(input)) continue;
    for (const inner of Object.values(input.getFields())) {
      for (const value of hostileValues(inner.type)) {
        const variables = base();
        const object = {
          ...(plausible(input, fixture, field.name, arg.name) as Record<string, unknown>),
          [inner.name]: value,
        };
        variables[arg.name] = isListType(getNullableType(arg.type)) ? [object] : object;
        yield { query, variables };
      }
    }
  }
}

const INTERNAL =
  /stack|originalError|prisma|\bSELECT\b|\bINSERT\b|node_modules|\.ts:\d+|invalid input syntax|violates|PostgreSQL|RangeError|TypeError/i;

it(
  'answers hostile input to every argument of every field as the caller’s error, and stays healthy',
  { timeout: 600_000 },
  async () => {
    const app = await h.startApp();
    const corpus = await createCorpus(h);
    const agent = await h.gql(CreateAgentMutation, {
      input: {
        name: 'Fuzz agent',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai!],
      },
    });
    const agentId = agent.data!.createAgentFromTaxonomy.id;
    const made = await h.gql(
      `mutation($agent: ID!) {
      template: createTemplate(input: { name: "fuzz", category: DOCS, content: "{{x}}", isPublic: true }) { id }
      plan: planTopic(input: { topic: "fuzz", agentId: $agent }) { topic { id } }
      refresh: refreshCoverage(input: { agentId: $agent }) { task { id } }
      key: createApiKey(input: { user: "fuzz", name: "fuzz", scopes: [READ] }) { apiKey { id } }
    }`,
      { agent: agentId },
    );
    expect(made.errors).toBeUndefined();
    const fixture: Fixture = {
      ids: {
        Agent: agentId,
        TaxonomyNode: corpus.nodeIds.ai!,
        Template: made.data.template.id,
        Topic: made.data.plan.topic.id,
        Task: made.data.refresh.task.id,
        ApiKey: made.data.key.apiKey.id,
      },
      taxonomyVersion: corpus.version,
    };

    const roots: Array<['query' | 'mutation' | 'subscription', GraphQLObjectType]> = [
      ['query', schema.getQueryType()!],
      ['mutation', schema.getMutationType()!],
      ['subscription', schema.getSubscriptionType()!],
    ];
    const requests = roots.flatMap(([operation, type]) =>
      Object.values(type.getFields()).flatMap((field) =>
        [...requestsFor(operation, field, fixture)].map((request) => ({
          ...request,
          operation,
          field: field.name,
        })),
      ),
    );
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    let sent = 0;

    async function send(request: (typeof requests)[number]) {
      // Subscriptions as Apollo's multipart: the first part says whether it started; then leave.
      const accept =
        request.operation === 'subscription'
          ? 'multipart/mixed;subscriptionSpec="1.0", application/json'
          : 'application/graphql-response+json';
      const abort = new AbortController();
      const response = await fetch(`${app.baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.adminKey}`,
          'content-type': 'application/json',
          accept,
        },
        body: body({ query: request.query, variables: request.variables }),
        signal: abort.signal,
      });
      sent++;
      let text = '';
      if (response.headers.get('content-type')?.startsWith('multipart/')) {
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        const deadline = setTimeout(() => abort.abort(), 300);
        try {
          while (!/\{"payload"|--graphql--/.test(text)) {
            const { value, done } = await reader.read();
            if (done) break;
            text += decoder.decode(value, { stream: true });
          }
        } catch {
          // A live subscription that has not said anything yet: it started, which is fine.
        } finally {
          clearTimeout(deadline);
          abort.abort();
        }
      } else {
        text = await response.text();
      }
      const label = `${request.field} ${JSON.stringify(request.variables).slice(0, 160)}`;
      if (response.status >= 500) failures.push(`${response.status} ${label}`);
      if (INTERNAL.test(text) || text.includes('INTERNAL_SERVER_ERROR'))
        failures.push(`internal: ${label}: ${text.slice(0, 300)}`);
      const errors = [...text.matchAll(/"extensions":\{"code":"(\w+)"/g)].map((match) => match[1]!);
      const errorCount = (text.match(/"message":/g) ?? []).length;
      if (errorCount > errors.length)
        failures.push(`an error without a code: ${label}: ${text.slice(0, 300)}`);
      const outcome = errors[0] ?? `${response.status} ok`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }

    const queue = [...requests];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await send(next);
      }),
    );
    console.log(
      `fuzz: ${sent} requests over ${roots.reduce((n, [, type]) => n + Object.keys(type.getFields()).length, 0)} fields; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    expect(sent).toBeGreaterThan(1_000);

    const health = await fetch(`${app.baseUrl}/health`);
    expect(health.status).toBe(200);
    const viewer = await h.gql('{ viewer { user } agents(first: 1) { totalCount } }');
    expect(viewer.errors).toBeUndefined();
  },
);
