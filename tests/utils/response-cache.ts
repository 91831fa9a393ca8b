// Helpers for the response cache tests: a read that also returns what the answer says of the
// cache (X-Cache, extensions.responseCache), and a small team-owned agent to cache.
import { expect } from 'vitest';
import type { Fetch } from './graphql.js';
import type { Harness } from './harness.js';

export interface CachedRead<T = any> {
  status: number;
  data: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
  xCache: string | null;
  extension: { hit?: boolean; didCache?: boolean; ttl?: number } | undefined;
}

/** A POST as a JSON client makes it, to yoga.fetch or a real URL. */
export async function read<T = any>(
  fetch: Fetch,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
  url = 'http://test.local/graphql',
): Promise<CachedRead<T>> {
  const response = await fetch(
    new Request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = (await response.json()) as {
    data: T;
    errors?: CachedRead['errors'];
    extensions?: { responseCache?: CachedRead['extension'] };
  };
  return {
    status: response.status,
    data: body.data,
    errors: body.errors,
    xCache: response.headers.get('x-cache'),
    extension: body.extensions?.responseCache,
  };
}

/** fetch over a real socket, for an API in another process. */
export const overHttp: Fetch = (request) => fetch(request);

const TAXONOMY = `mutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { nodes { id key } } }`;
const AGENT = `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }`;

/** A taxonomy of the key's team and an agent over its root node; returns the agent's id. */
export async function createAgent(h: Harness, key: string, name: string): Promise<string> {
  const version = `v-${Math.random().toString(36).slice(2, 8)}`;
  const taxonomy = await h.gql(
    TAXONOMY,
    { input: { version, name: 't', nodes: [{ key: 'root', label: 'Root' }] } },
    key,
  );
  expect(taxonomy.errors).toBeUndefined();
  const nodeId = taxonomy.data.createTaxonomy.nodes[0].id;
  const agent = await h.gql(
    AGENT,
    { input: { name, taxonomyVersion: version, taxonomyNodeIds: [nodeId] } },
    key,
  );
  expect(agent.errors).toBeUndefined();
  return agent.data.createAgentFromTaxonomy.id;
}

export const RENAME = `mutation($id: ID!, $name: String!) { updateAgent(id: $id, input: { name: $name }) { id name } }`;
export const AGENT_NAME = `query($id: ID!) { agent(id: $id) { id name } }`;
