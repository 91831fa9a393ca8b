// A streamed list whose items fail (docs/clients.md, "@defer and @stream"): the first failing
// item in list order ends the stream with its coded error and `hasNext: false`, whichever item
// failed first in time, on multipart and for a JSON-only client (merged). A probe found such a
// stream hanging or ending with no error at all (patches/@graphql-tools+executor+2.1.0.patch).
import { describe, expect, it } from 'vitest';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness } from '../utils/harness.js';
import { multipartParts, type Payload } from '../utils/incremental.js';

const h = useHarness();

const APOLLO_DEFER =
  'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9';

async function agents(count: number): Promise<void> {
  const corpus = await createCorpus(h);
  for (let i = 0; i < count; i++) {
    const made = await h.gql(CreateAgentMutation, {
      input: {
        name: `Streamed agent ${i}`,
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ai!],
      },
    });
    expect(made.errors).toBeUndefined();
  }
}

async function post(baseUrl: string, accept: string, query: string) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.adminKey}`,
      'content-type': 'application/json',
      accept,
    },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  return { contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

const QUERIES = {
  tasks:
    '{ agents(first: 3) { edges @stream(initialCount: 0) { node { name tasks(first: -1) { totalCount } } } } }',
  history:
    '{ agents(first: 3) { totalCount edges @stream(initialCount: 0) { node { name coverageHistory(first: -1) { totalCount } } } } }',
};

describe('a streamed list whose items fail', () => {
  for (const [name, query] of Object.entries(QUERIES)) {
    it(`ends with the coded error on multipart and merged (${name})`, async () => {
      await agents(3);
      const app = await h.startApp();
      for (let round = 0; round < 3; round++) {
        const multipart = await post(app.baseUrl, APOLLO_DEFER, query);
        expect(multipart.contentType).toContain('multipart/mixed');
        const payloads: Payload[] = multipartParts(multipart.contentType, multipart.body);
        expect(payloads.at(-1)!.hasNext).toBe(false);
        const errors = payloads.flatMap((payload) =>
          (payload.incremental ?? []).flatMap((part) => part.errors ?? []),
        );
        expect(errors.length).toBeGreaterThanOrEqual(1);
        expect(errors[0]).toMatchObject({
          extensions: { code: 'BAD_USER_INPUT', argument: 'first' },
        });

        const merged = await post(app.baseUrl, 'application/json', query);
        const result = JSON.parse(merged.body) as { errors?: Array<{ extensions: unknown }> };
        expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      }
    });
  }
});
