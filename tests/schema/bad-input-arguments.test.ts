// Every BAD_USER_INPUT names the argument at fault in extensions.argument (the error
// contract), here for the refusals a probe found without it: page sizes and cursors of the
// connections, key minting, templates' names, contents, tags and no-op updates, empty bulk ids.
import { describe, expect, it } from 'vitest';
import { createAgent } from '../utils/response-cache.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();

const refusal = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await h.gql(query, variables);
  expect(response.errors, query).toBeDefined();
  return response.errors![0]!.extensions as Record<string, unknown>;
};

describe('BAD_USER_INPUT names its argument', () => {
  it('on connections, keys, templates and bulk changes', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['{ agents(first: -1) { totalCount } }', {}, 'first'],
      ['{ tasks(first: -1) { edges { cursor } } }', {}, 'first'],
      ['{ workflows(first: 1000) { edges { cursor } } }', {}, 'first'],
      ['{ tasks(first: 1, after: "garbage") { edges { cursor } } }', {}, 'after'],
      ['{ templates(first: 1, after: "garbage") { edges { cursor } } }', {}, 'after'],
      [
        'mutation { createApiKey(input: { user: "arg-user", name: "k", scopes: [] }) { key } }',
        {},
        'input.scopes',
      ],
      [
        'mutation { createApiKey(input: { user: "arg-user", name: " ", scopes: [READ] }) { key } }',
        {},
        'input.name',
      ],
      [
        'mutation { createTemplate(input: { name: " ", content: "x", category: DOCS }) { id } }',
        {},
        'input.name',
      ],
      [
        'mutation { createTemplate(input: { name: "n", content: "  ", category: DOCS }) { id } }',
        {},
        'input.content',
      ],
      [
        'mutation { createTemplate(input: { name: "n", content: "x", category: DOCS, tags: [" "] }) { id } }',
        {},
        'input.tags',
      ],
      ['mutation { bulkUpdateAgents(ids: [], input: { name: "x" }) { applied } }', {}, 'ids'],
    ];
    for (const [query, variables, argument] of cases)
      expect(await refusal(query, variables), query).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument,
      });
    const created = await h.gql(
      'mutation { createTemplate(input: { name: "arg-template", content: "x", category: DOCS }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    const id = created.data.createTemplate.id;
    expect(
      await refusal('mutation($id: ID!) { updateTemplate(id: $id, input: {}) { id } }', { id }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input' });
    expect(
      await refusal(
        'mutation($id: ID!) { updateTemplate(id: $id, input: { name: "arg-template" }) { id } }',
        { id },
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input' });
    const placeholders = await h.gql(
      'mutation { createTemplate(input: { name: "arg-vars", content: "Hi {{who}}", category: DOCS }) { id } }',
    );
    const withVariables = placeholders.data.createTemplate.id;
    const more: Array<[string, Record<string, unknown>, string]> = [
      // forkTemplate's name is its own argument, not an input's field.
      ['mutation($id: ID!) { forkTemplate(id: $id, name: " ") { id } }', { id }, 'name'],
      [
        'mutation($id: ID!, $v: JSON!) { renderTemplate(id: $id, variables: $v) { content } }',
        { id, v: [1] },
        'variables',
      ],
      [
        'mutation($id: ID!, $v: JSON!) { renderTemplate(id: $id, variables: $v) { content } }',
        { id: withVariables, v: {} },
        'variables',
      ],
      ['mutation($id: ID!) { setTemplateFlags(id: $id) { id } }', { id }, 'isOfficial'],
      [
        'mutation { planTopic(input: { topic: "   " }) { estimatedSectionsCount } }',
        {},
        'input.topic',
      ],
    ];
    for (const [query, variables, argument] of more)
      expect(await refusal(query, variables), query).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument,
      });
  });

  it('on names and titles others read: controls, bidi overrides, nothing visible', async () => {
    const team = (name: string) =>
      h.gql(
        'mutation($name: String!, $slug: String!) { createTeam(input: { name: $name, slug: $slug }) { id } }',
        {
          name,
          slug: `shown-${Math.random().toString(36).slice(2, 8)}`,
        },
      );
    const key = (name: string) =>
      h.gql(
        'mutation($name: String!) { createApiKey(input: { user: "shown-user", name: $name, scopes: [READ] }) { key } }',
        {
          name,
        },
      );
    const topic = (title: string) =>
      h.gql(
        'mutation($t: String!) { planTopic(input: { topic: $t }) { estimatedSectionsCount } }',
        {
          t: title,
        },
      );
    for (const [ask, text, argument] of [
      [team, 'Ops\u0007', 'input.name'],
      [team, 'Ops \u202egnp.exe', 'input.name'],
      [team, '\u200b\u2800', 'input.name'],
      [key, 'ci\u2066', 'input.name'],
      [key, '\u3164', 'input.name'],
      [topic, '\u200b\u2800', 'input.topic'],
      [topic, 'Plan\u001b[31m', 'input.topic'],
    ] as const) {
      const response = await ask(text);
      expect(response.errors?.[0]?.extensions, JSON.stringify(text)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument,
      });
    }
    // Joiners between visible characters stay (an emoji sequence).
    const emoji = await team('🧑\u200d💻 Devs');
    expect(emoji.errors).toBeUndefined();
  });

  it('on search, ratings and coverage history', async () => {
    const agentId = await createAgent(h, h.adminKey, 'Arg agent');
    const template = await h.gql(
      'mutation { createTemplate(input: { name: "arg-rated", content: "x", category: DOCS }) { id } }',
    );
    const templateId = template.data.createTemplate.id;
    const search =
      'query($id: ID!, $q: String!, $k: Int) { queryAgent(agentId: $id, query: $q, topK: $k) { queryTimeMs } }';
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [search, { id: agentId, q: 'x', k: -5 }, 'topK'],
      [search, { id: agentId, q: '   ' }, 'query'],
      [
        'mutation($id: ID!) { rateTemplate(id: $id, stars: 9) { id } }',
        { id: templateId },
        'stars',
      ],
      [
        `query($id: ID!) { agent(id: $id) {
          coverageHistory(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { totalCount } } }`,
        { id: agentId },
        'from',
      ],
      [
        'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false, idempotencyKey: "k" }) { task { id } } }',
        { id: agentId },
        'input.idempotencyKey',
      ],
      [
        'mutation($id: ID!, $key: String) { refreshCoverage(input: { agentId: $id, idempotencyKey: $key }) { task { id } } }',
        { id: agentId, key: 'k'.repeat(201) },
        'input.idempotencyKey',
      ],
    ];
    for (const [query, variables, argument] of cases)
      expect(await refusal(query, variables), query).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument,
      });
  });
});
