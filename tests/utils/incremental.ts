// @defer and @stream in tests: the operations, an agent with a corpus to search, a reader of a
// multipart/mixed body as the incremental delivery format frames it, and the checks every
// transport's payloads must pass (docs/clients.md, "@defer and @stream").
import { print } from 'graphql';
import { expect } from 'vitest';
import { AgentWithDeferredCoverageQuery, StreamedHitsQuery } from '../client/operations.js';
import { createCorpus } from './corpus.js';
import type { Harness } from './harness.js';

/** An agent's name now, its coverage (computed on read) deferred (tests/client/operations.ts). */
export const DEFERRED_COVERAGE = print(AgentWithDeferredCoverageQuery);

/** queryAgent's totals now, each hit streamed (tests/client/operations.ts). */
export const STREAMED_HITS = print(StreamedHitsQuery);

/** The same search without @stream: what a merged result must equal. */
export const PLAIN_HITS = `query($agentId: ID!, $query: String!) {
  queryAgent(agentId: $agentId, query: $query, topK: 5) { totalResults hits { index chunkId title } } }`;

/** A mutation whose payload's scopes are deferred. */
export const DEFERRED_MUTATION = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { user ... @defer(label: "scopes") { scopes } } }`;

/** A search of the corpus with several hits. */
export const SEARCH_TEXT = 'language models learning';

export interface Payload {
  data?: any;
  errors?: any[];
  hasNext?: boolean;
  incremental?: Array<{
    data?: any;
    items?: any[];
    path: Array<string | number>;
    label?: string;
    errors?: any[];
  }>;
}

/** An agent over the test corpus (AI and technology): its global id. */
export async function searchAgent(h: Harness): Promise<string> {
  const corpus = await createCorpus(h);
  const created = await h.gql(
    'mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }',
    {
      input: {
        name: 'Incremental agent',
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai, corpus.nodeIds.tech],
      },
    },
  );
  expect(created.errors).toBeUndefined();
  return created.data.createAgentFromTaxonomy.id;
}

/**
 * The parts of a multipart/mixed body (RFC 2046): the boundary from the content type, each
 * part's headers checked to be JSON, its body parsed; nothing after the closing delimiter.
 */
export function multipartParts(contentType: string, body: string): Payload[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  expect(boundary).toBeDefined();
  const delimiter = `\r\n--${boundary}`;
  const end = body.lastIndexOf(`${delimiter}--`);
  expect(end).toBeGreaterThanOrEqual(0);
  return body
    .slice(0, end)
    .split(delimiter)
    .slice(1)
    .map((part) => {
      const split = part.indexOf('\r\n\r\n');
      expect(part.slice(0, split).toLowerCase()).toContain('content-type: application/json');
      return JSON.parse(part.slice(split + 4)) as Payload;
    });
}

/** The first payload lacks the coverage; a later one carries it at the agent, labelled; the last ends. */
export function expectDeferredCoverage(payloads: Payload[], agentId: string): void {
  expect(payloads.length).toBeGreaterThanOrEqual(2);
  const [first, ...later] = payloads;
  expect(first).toEqual({
    data: { agent: { id: agentId, name: 'Incremental agent' } },
    hasNext: true,
  });
  const parts = later.flatMap((payload) => payload.incremental ?? []);
  expect(parts).toEqual([
    {
      data: {
        coverage: { overallCoverage: expect.any(Number), totalDocuments: expect.any(Number) },
      },
      path: ['agent'],
      label: 'coverage',
    },
  ]);
  expect(later.slice(0, -1).every((payload) => payload.hasNext === true)).toBe(true);
  expect(payloads.at(-1)!.hasNext).toBe(false);
}

/**
 * The hits streamed after totals with none: the first hit alone in its payload, before any
 * other; every hit at its index, in rank order, the same as the search without @stream.
 */
export function expectStreamedHits(
  payloads: Payload[],
  plain: { totalResults: number; hits: Array<{ index: number }> },
): void {
  expect(plain.hits.length).toBeGreaterThanOrEqual(2);
  const [first, ...later] = payloads;
  expect(first).toEqual({
    data: { queryAgent: { totalResults: plain.totalResults, hits: [] } },
    hasNext: true,
  });
  const withItems = later.filter((payload) => payload.incremental?.length);
  expect(withItems[0]!.incremental).toEqual([
    { items: [plain.hits[0]], path: ['queryAgent', 'hits', 0], label: 'hits' },
  ]);
  const items = withItems.flatMap((payload) =>
    payload.incremental!.map((part) => {
      expect(part.path.slice(0, 2)).toEqual(['queryAgent', 'hits']);
      expect(part.label).toBe('hits');
      return { at: part.path[2], items: part.items };
    }),
  );
  expect(items.map((item) => item.at)).toEqual(plain.hits.map((_, index) => index));
  expect(items.flatMap((item) => item.items)).toEqual(plain.hits);
  expect(payloads.at(-1)!.hasNext).toBe(false);
}
