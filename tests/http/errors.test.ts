// Bad input is the caller's, and every endpoint says so the same way: an error with
// extensions.code, the right HTTP status, nothing internal echoed.
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
const JSON_ACCEPT = 'application/graphql-response+json';

/** What no answer may carry: internal details. */
function expectNothingInternal(body: string) {
  expect(body).not.toMatch(/originalError|stack|prisma|SELECT |at [\w.]+ \(|node_modules/i);
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.adminKey}`,
      'content-type': 'application/json',
      accept: JSON_ACCEPT,
      ...headers,
    },
    body,
  });
  const text = await response.text();
  expectNothingInternal(text);
  return {
    status: response.status,
    body: JSON.parse(text) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions?: { code?: string; argument?: string } }>;
    },
  };
}

const codes = (body: { errors?: Array<{ extensions?: { code?: string } }> }) =>
  (body.errors ?? []).map((error) => error.extensions?.code);

describe('input bounds', () => {
  const cases: Array<[string, string, Record<string, unknown>, [string, string]]> = [
    [
      'a NUL byte',
      'query($s: String) { agents(search: $s) { totalCount } }',
      { s: 'a\u0000b' },
      ['search', 'agents(search:)'],
    ],
    [
      'a lone surrogate',
      'query($s: String) { agents(search: $s) { totalCount } }',
      { s: 'a\ud800b' },
      ['search', 'agents(search:)'],
    ],
    [
      'a 2 MB search string',
      'query($s: String) { agents(search: $s) { totalCount } }',
      { s: 'x'.repeat(2_000_000) },
      ['search', 'agents(search:)'],
    ],
    [
      'a lone surrogate in an input object',
      'mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }',
      { input: { name: 'n', category: 'DOCS', content: 'c\udc00' } },
      ['input.content', 'createTemplate(input:).content'],
    ],
    [
      'a lone surrogate in planTopic',
      'mutation($input: PlanTopicInput!) { planTopic(input: $input) { topic { id } } }',
      { input: { topic: 'x\ud800' } },
      ['input.topic', 'planTopic(input:).topic'],
    ],
    [
      'a NUL in an id',
      'query($id: ID!) { task(id: $id) { id } }',
      { id: 'VGFzazo\u0000' },
      ['id', 'task(id:)'],
    ],
  ];
  // The argument by its path among the field's arguments, as resolvers name it; the message
  // names the field too.
  for (const [name, query, variables, [argument, named]] of cases) {
    it(`refuses ${name} as BAD_USER_INPUT naming ${argument}`, async () => {
      const { status, body } = await post(
        `${(await app()).baseUrl}/graphql`,
        JSON.stringify({ query, variables }),
      );
      expect(status).toBe(400);
      expect(codes(body)).toEqual(['BAD_USER_INPUT']);
      expect(body.errors![0]!.extensions!.argument).toBe(argument);
      expect(body.errors![0]!.message).toContain(named);
    });
  }

  it('refuses JSON nested 5,000 deep, and a list literal nested 3,000 deep', async () => {
    // Written out: JSON.stringify itself cannot go 5,000 levels deep.
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const id =
      (await h.gql('{ agents(first: 1) { edges { node { id } } } }')).data.agents.edges[0]?.node
        .id ?? 'QWdlbnQ6eA==';
    const query =
      'mutation($id: ID!, $c: JSON) { updateAgent(id: $id, input: { featuresConfig: $c }) { id } }';
    const json = await post(
      `${(await app()).baseUrl}/graphql`,
      `{"query":${JSON.stringify(query)},"variables":{"id":${JSON.stringify(id)},"c":${deep}}}`,
    );
    expect(json.status).toBe(400);
    expect(codes(json.body)).toEqual(['BAD_USER_INPUT']);
    const list = `{ agents(search: ${'['.repeat(3_000)}"x"${']'.repeat(3_000)}) { totalCount } }`;
    const literal = await post(`${(await app()).baseUrl}/graphql`, JSON.stringify({ query: list }));
    expect(literal.status).toBe(400);
    expect(codes(literal.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('documents every bound in the SDL', async () => {
    const sdl = (await import('node:fs')).readFileSync(
      new URL('../../schema.graphql', import.meta.url),
      'utf8',
    );
    expect(sdl).toMatch(/"""At most 200 characters\."""\s+search: String/);
    expect(sdl).toMatch(/At most 32 levels deep and 64 KiB\.\s*"""\s+featuresConfig: JSON/);
  });
});

describe('request errors', () => {
  it('answers malformed variables in a GET as BAD_USER_INPUT', async () => {
    const url = `${(await app()).baseUrl}/graphql?query=${encodeURIComponent('{ viewer { user } }')}&variables=%7Bbad`;
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${h.adminKey}`, accept: JSON_ACCEPT },
    });
    const text = await response.text();
    expectNothingInternal(text);
    expect(response.status).toBe(400);
    expect(codes(JSON.parse(text))).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a variable of the wrong type, or missing, with 400 under graphql-response+json and 200 under json', async () => {
    // GraphQL over HTTP: a response without `data` under application/graphql-response+json
    // has a 4xx status; application/json keeps 200 (https://graphql.github.io/graphql-over-http/draft/#sec-application-graphql-response-json).
    const url = `${(await app()).baseUrl}/graphql`;
    const query = 'query($n: Int!) { agents(first: $n) { totalCount } }';
    for (const variables of [{ n: 'abc' }, {}])
      for (const [accept, status] of [
        [JSON_ACCEPT, 400],
        ['application/json', 200],
      ] as const) {
        const answer = await post(url, JSON.stringify({ query, variables }), { accept });
        expect(answer.status, `${accept} ${JSON.stringify(variables)}`).toBe(status);
        expect(answer.body.data).toBeUndefined();
        expect(codes(answer.body)).toEqual(['BAD_USER_INPUT']);
      }
  });

  it('answers a malformed JSON body with a code and without echoing it', async () => {
    const { status, body } = await post(
      `${(await app()).baseUrl}/graphql`,
      '{"query": "{ viewer { user } }", secret-body-text',
    );
    expect(status).toBe(400);
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(body)).not.toContain('secret-body-text');
  });

  it('codes every refusal of /graphql/stream: malformed JSON, a wrong content type, a batch', async () => {
    const stream = `${(await app()).baseUrl}/graphql/stream`;
    const accept = { accept: 'text/event-stream' };
    const malformed = await post(stream, '{bad', accept);
    expect(malformed.status).toBe(400);
    expect(codes(malformed.body)).toEqual(['BAD_USER_INPUT']);
    const wrongType = await post(stream, 'query=x', { ...accept, 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(codes(wrongType.body)).toEqual(['BAD_USER_INPUT']);
    const batch = await post(stream, JSON.stringify([{ query: '{ viewer { user } }' }]), accept);
    expect(batch.status).toBe(400);
    expect(codes(batch.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('codes the refusals of /graphql that yoga answers with an empty body: 415 and 406', async () => {
    const graphql = `${(await app()).baseUrl}/graphql`;
    const query = JSON.stringify({ query: '{ viewer { user } }' });
    // A bare fetch() of a JSON string sends text/plain.
    const plain = await post(graphql, query, { 'content-type': 'text/plain;charset=UTF-8' });
    expect(plain.status).toBe(415);
    expect(codes(plain.body)).toEqual(['BAD_USER_INPUT']);
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const subscription = JSON.stringify({
      query: `subscription { agentQueryStream(agentId: "${unknown}", query: "x") { __typename } }`,
    });
    const jsonOnly = await post(graphql, subscription, { accept: 'application/json' });
    expect(jsonOnly.status).toBe(406);
    expect(codes(jsonOnly.body)).toEqual(['BAD_USER_INPUT']);
    const deferred = JSON.stringify({ query: '{ ... @defer { viewer { user } } }' });
    const html = await post(graphql, deferred, { accept: 'text/html' });
    expect(html.status).toBe(406);
    expect(codes(html.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers an operation-limit refusal with HTTP 400, as the README says', async () => {
    const deep = `{ agents { edges { node { tasks { edges { node { agent { tasks { edges { node { agent { tasks { edges { node { id } } } } } } } } } } } } } } }`;
    const { status, body } = await post(
      `${(await app()).baseUrl}/graphql`,
      JSON.stringify({ query: deep }),
    );
    expect(status).toBe(400);
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: viewer { user }`).join(' ')} }`;
    const many = await post(`${(await app()).baseUrl}/graphql`, JSON.stringify({ query: aliases }));
    expect(many.status).toBe(400);
    expect(codes(many.body)).toEqual(['BAD_USER_INPUT']);
  });
});

let started: Awaited<ReturnType<typeof h.startApp>> | undefined;
async function app() {
  started ??= await h.startApp();
  return started;
}
