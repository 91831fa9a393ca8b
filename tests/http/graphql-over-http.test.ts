// graphql-http's conformance audits for the GraphQL over HTTP spec, each one a test,
// against a real server on an ephemeral port (authenticated as the admin).
import { serverAudits } from 'graphql-http';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
let baseUrl = '';

const audits = serverAudits({
  url: () => `${baseUrl}/graphql`,
  fetchFn: (input: RequestInfo, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${h.adminKey}`);
    return fetch(input, { ...init, headers });
  },
});

describe('GraphQL over HTTP (graphql-http server audits)', () => {
  it('starts the server', async () => {
    baseUrl = (await h.startApp()).baseUrl;
  });

  for (const audit of audits) {
    it(audit.name, async () => {
      const result = await audit.fn();
      if (result.status !== 'ok') {
        // Every audit passes, MUST and SHOULD alike (yoga's own score is 61/61).
        expect.fail(
          `${result.reason}\n${JSON.stringify(await result.response.text().catch(() => ''))}`,
        );
      }
    });
  }

  it('runs the whole audit list', () => {
    expect(audits.length).toBeGreaterThanOrEqual(61);
  });
});
