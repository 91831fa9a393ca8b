// Input a probe found answered as a fault of ours (INTERNAL_SERVER_ERROR) or silently ignored:
// instants before year 1 (a DateTime or a cursor's date, which PostgreSQL refused as Prisma
// wrote them), Task.events cursors that hold no sequence, `last` and `before` on connections
// that page forward only, and a subscription POSTed for a JSON answer past an input bound.
// Each is now the caller's error: BAD_USER_INPUT naming its argument.
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/platform/pagination.js';
import { createAgent } from '../utils/response-cache.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();

const refusal = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await h.gql(query, variables);
  expect(response.errors, query).toBeDefined();
  return response.errors![0]!;
};

/** An agent with one coverage history entry, and the task that computed it (with its events). */
async function agentWithHistory(): Promise<{ agentId: string }> {
  const agentId = await createAgent(h, h.adminKey, 'Range agent');
  const refreshed = await h.gql(
    'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false }) { coverage { overallCoverage } } }',
    { id: agentId },
  );
  expect(refreshed.errors).toBeUndefined();
  return { agentId };
}

describe('DateTime before year 1', () => {
  // A literal is checked when the document is validated (as a malformed one is): a
  // validation error; a variable's value is the caller's BAD_USER_INPUT.
  it('is refused as input, as a variable and as a literal, and year 1 is taken', async () => {
    const { agentId } = await agentWithHistory();
    const tasks = 'query($from: DateTime) { tasks(from: $from, first: 1) { totalCount } }';
    for (const from of ['0000-01-01T00:00:00Z', '0000-12-31T23:59:59.999Z']) {
      const error = await refusal(tasks, { from });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(error.message).toContain('0001-01-01T00:00:00.000Z');
    }
    const literal = await refusal('{ tasks(to: "0000-06-01T00:00:00Z", first: 1) { totalCount } }');
    expect(literal.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(literal.message).toContain('0001-01-01T00:00:00.000Z');
    const history = await refusal(
      `query($id: ID!, $from: DateTime) { agent(id: $id) {
        coverageHistory(from: $from, to: "2030-01-01T00:00:00Z") { totalCount }
      } }`,
      { id: agentId, from: '0000-01-01T00:00:00Z' },
    );
    expect(history.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    const yearOne = await h.gql(tasks, { from: '0001-01-01T00:00:00Z' });
    expect(yearOne.errors).toBeUndefined();
    expect(yearOne.data.tasks.totalCount).toBeGreaterThanOrEqual(0);
  });
});

describe('forged cursors', () => {
  it('with a date before year 1 are not cursors of the connection', async () => {
    const { agentId } = await agentWithHistory();
    const id = '00000000-0000-4000-8000-000000000000';
    for (const date of [
      '0000-01-01T00:00:00Z',
      '-000100-01-01T00:00:00Z',
      '-271821-04-20T00:00:00Z',
    ]) {
      const after = encodeCursor([date, id]);
      for (const [query, variables] of [
        ['query($after: String) { tasks(first: 1, after: $after) { totalCount } }', { after }],
        ['query($after: String) { workflows(first: 1, after: $after) { totalCount } }', { after }],
        [
          'query($id: ID!, $after: String) { agent(id: $id) { coverageHistory(first: 1, after: $after) { totalCount } } }',
          { id: agentId, after },
        ],
        [
          'query($id: ID!, $after: String) { agent(id: $id) { coverageHistory(first: 1, after: $after) { totalCount } } }',
          { id: agentId, after: encodeCursor(['2026-01-01T00:00:00Z', 'not-a-uuid']) },
        ],
      ] as const) {
        const error = await refusal(query, variables);
        expect(error.extensions, `${date}: ${query}`).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument: 'after',
        });
      }
    }
  });

  it('of templates and their versions hold an integer PostgreSQL can compare, or are refused', async () => {
    const created = await h.gql(
      'mutation { createTemplate(input: { name: "cursor", category: DOCS, content: "x" }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    const id = '00000000-0000-4000-8000-000000000000';
    const templates =
      'query($after: String) { templates(first: 1, orderBy: USAGE, after: $after) { totalCount } }';
    const versions =
      'query($id: ID!, $after: String) { template(id: $id) { versions(first: 1, after: $after) { totalCount } } }';
    for (const key of [2 ** 31, -(2 ** 31) - 1, 1e30]) {
      const usage = await refusal(templates, { after: encodeCursor(['USAGE', key, id]) });
      expect(usage.extensions, `USAGE ${key}`).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
      const version = await refusal(versions, {
        id: created.data.createTemplate.id,
        after: encodeCursor([key]),
      });
      expect(version.extensions, `version ${key}`).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
    }
  });

  it('of Task.events hold a sequence (a whole number from 1), or are refused', async () => {
    const { agentId } = await agentWithHistory();
    const started = await h.gql(
      'mutation($id: ID!) { refreshCoverage(input: { agentId: $id }) { task { id } } }',
      { id: agentId },
    );
    expect(started.errors).toBeUndefined();
    const taskId = started.data.refreshCoverage.task.id;
    const events =
      'query($id: ID!, $after: String) { task(id: $id) { events(first: 5, after: $after) { edges { cursor node { sequence } } } } }';
    const firstPage = await h.gql(events, { id: taskId });
    expect(firstPage.errors).toBeUndefined();
    const [first] = firstPage.data.task.events.edges;
    expect(first.node.sequence).toBe(1);
    const next = await h.gql(events, { id: taskId, after: first.cursor });
    expect(next.errors).toBeUndefined();
    expect(next.data.task.events.edges.every((edge: any) => edge.node.sequence > 1)).toBe(true);

    for (const forged of [['x'], [1e30], [2 ** 31], [-1], [0], [1.5], [null]]) {
      const error = await refusal(events, { id: taskId, after: encodeCursor(forged) });
      expect(error.extensions, JSON.stringify(forged)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
    }
  });
});

describe('forged cursors of the Prisma connections (agents, deliveries)', () => {
  it('are not cursors of the connection, after or before; a real one pages on', async () => {
    await agentWithHistory();
    await agentWithHistory();
    const page =
      'query($after: String, $before: String, $first: Int, $last: Int) { agents(first: $first, last: $last, after: $after, before: $before) { edges { node { id } } pageInfo { endCursor } } }';
    const first = await h.gql(page, { first: 1 });
    expect(first.errors).toBeUndefined();
    const next = await h.gql(page, { first: 1, after: first.data.agents.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
    expect(next.data.agents.edges[0].node.id).not.toBe(first.data.agents.edges[0].node.id);

    const endpoint = await h.gql(
      'mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hooks", eventTypes: ["task.completed"] }) { endpoint { id } } }',
    );
    expect(endpoint.errors).toBeUndefined();
    const id = endpoint.data.createWebhookEndpoint.endpoint.id;
    const deliveries =
      'query($id: ID!, $after: String, $before: String, $first: Int, $last: Int) { webhookEndpoint(id: $id) { deliveries(first: $first, last: $last, after: $after, before: $before) { edges { cursor } } } }';
    // Not Pothos's format at all (`garbage`), or its format naming no row id.
    const forged = ['GPC:N:5', 'GPC:S:zzz', 'GPC:D:2026'].map((text) =>
      Buffer.from(text).toString('base64'),
    );
    forged.push('garbage');
    for (const cursor of forged)
      for (const field of ['after', 'before'] as const)
        // `before` pages backward: with `last` (Pothos refuses it beside `first`).
        for (const [query, variables] of [
          [page, { [field]: cursor, [field === 'after' ? 'first' : 'last']: 1 }],
          [deliveries, { id, [field]: cursor, [field === 'after' ? 'first' : 'last']: 1 }],
        ] as const) {
          const error = await refusal(query, variables);
          expect(error.extensions, `${field} ${cursor}`).toMatchObject({
            code: 'BAD_USER_INPUT',
            argument: field,
          });
        }
    // A page larger than the connection's 100: refused, where Pothos's maxSize cut it short.
    for (const [size, field] of [
      [101, 'first'],
      [1_000_000, 'first'],
      [101, 'last'],
    ] as const)
      for (const [query, variables] of [
        [page, { [field]: size }],
        [deliveries, { id, [field]: size }],
      ] as const) {
        const error = await refusal(query, variables);
        expect(error.extensions, `${field} ${size}`).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument: field,
          max: 100,
        });
      }
  });
});

describe('connections that page forward only', () => {
  it('refuse last and before instead of ignoring them', async () => {
    const { agentId } = await agentWithHistory();
    const task = await h.gql(
      'mutation($id: ID!) { refreshCoverage(input: { agentId: $id }) { task { id } } }',
      { id: agentId },
    );
    const taskId = task.data.refreshCoverage.task.id;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        'query($id: ID!) { task(id: $id) { events(last: 1) { edges { cursor } } } }',
        { id: taskId },
        'last',
      ],
      [
        'query($id: ID!) { task(id: $id) { events(before: "WzJd") { edges { cursor } } } }',
        { id: taskId },
        'before',
      ],
      [
        'query($id: ID!) { agent(id: $id) { coverageHistory(last: 1) { totalCount } } }',
        { id: agentId },
        'last',
      ],
    ];
    for (const [query, variables, argument] of cases) {
      const error = await refusal(query, variables);
      expect(error.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(error.message).toContain('pages forward only');
    }
  });
});

describe('a subscription POSTed for a JSON answer', () => {
  it('is held to the input bounds as on every other transport', async () => {
    const app = await h.startApp();
    const response = await fetch(`${app.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${h.adminKey}`,
      },
      body: JSON.stringify({
        query: 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence } }',
        variables: { id: 'a'.repeat(5_000) },
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ extensions: unknown }> };
    expect(body.errors[0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'TOO_LONG',
    });
  });
});
