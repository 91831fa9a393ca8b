// A variable graphql-js refuses before the operation runs (an unknown enum value, a wrong type,
// a missing one) is named in `extensions.argument` by the argument it feeds and the path inside
// it, as a service's own check names a refused field (docs/clients.md), whatever the variable
// is called. A variable fed to several arguments names none.
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';

const h = useHarness();

const refusal = async (
  query: string,
  variables: Record<string, unknown>,
  operationName?: string,
) => {
  const app = await h.startApp();
  const request = new Request('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminKey}` },
    body: JSON.stringify({ query, variables, operationName }),
  });
  const response = (await (await app.fetch(request)).json()) as {
    data?: unknown;
    errors?: Array<{ extensions: Record<string, unknown> }>;
  };
  expect(response.data ?? undefined, query).toBeUndefined();
  expect(response.errors, query).toHaveLength(1);
  return response.errors![0]!.extensions;
};

const TEMPLATE = (variable: string) =>
  `mutation($${variable}: CreateTemplateInput!) { createTemplate(input: $${variable}) { id } }`;
const TAXONOMY =
  'mutation($nodes: CreateTaxonomyInput!) { createTaxonomy(input: $nodes) { version } }';

describe('a variable refused by its type', () => {
  it('names the argument it feeds and the path inside it', async () => {
    const template = { name: 'Refused', category: 'NOPE', content: 'x' };
    for (const variable of ['input', 'data'])
      expect(await refusal(TEMPLATE(variable), { [variable]: template })).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'input.category',
      });
    const nodes = [
      { key: 'root', label: 'Root' },
      { key: 'leaf', label: 5 },
    ];
    expect(await refusal(TAXONOMY, { nodes: { version: 'v1', name: 't', nodes } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.nodes[1].label',
    });
  });

  it('names the argument alone when the whole value is refused or missing', async () => {
    expect(await refusal(TEMPLATE('data'), { data: 5 })).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input',
    });
    expect(await refusal(TEMPLATE('data'), {})).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input',
    });
  });

  it('reads the operation that refused it, with the fragments it spreads', async () => {
    const two = `query A($at: DateTime) { tasks(first: 1, from: $at) { totalCount } }
      query B($at: DateTime) { tasks(first: 1, to: $at) { totalCount } }`;
    for (const [operation, argument] of [
      ['A', 'from'],
      ['B', 'to'],
    ])
      expect(await refusal(two, { at: 'yesterday' }, operation)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument,
      });
    const spread = `query($at: DateTime) { ...Recent }
      fragment Recent on Query { tasks(first: 1, from: $at) { totalCount } }`;
    expect(await refusal(spread, { at: 'yesterday' })).toMatchObject({ argument: 'from' });
  });

  it('names no argument when the variable feeds several, or a directive', async () => {
    const extensions = await refusal(
      'query($at: DateTime) { tasks(first: 1, from: $at, to: $at) { totalCount } }',
      { at: 'yesterday' },
    );
    expect(extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(extensions).not.toHaveProperty('argument');
    const directive = await refusal(
      'query($on: Boolean!) { tasks(first: 1) @include(if: $on) { totalCount } }',
      {},
    );
    expect(directive).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(directive).not.toHaveProperty('argument');
  });
});
