// Our typed client (tests/client) against a server under TRUSTED_DOCUMENTS_ONLY with the
// manifest codegen generated (tests/generated/persisted-documents.json) loaded at start, as
// TRUSTED_DOCUMENTS_MANIFEST does: Apollo Client sends each typed document by hash alone and
// it runs; a document that is not in the manifest is refused.
import { gql } from '@apollo/client';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTrustedDocumentsManifest } from '../../src/http/app.js';
import { db } from '../../src/platform/db.js';
import { apolloTrustedDocuments } from '../client/recipes.js';
import { CreateApiKeyMutation, CreateTaxonomyMutation, ViewerQuery } from '../client/operations.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
const manifestPath = fileURLToPath(
  new URL('../generated/persisted-documents.json', import.meta.url),
);

describe('the typed client with trusted documents', () => {
  it('runs the manifest by hash under TRUSTED_DOCUMENTS_ONLY and is refused an ad-hoc document', async () => {
    const loaded = await loadTrustedDocumentsManifest({ manifestPath });
    expect(loaded!.registered).toBeGreaterThan(5);
    // Every API process loads it at start: the second finds it there.
    expect(await loadTrustedDocumentsManifest({ manifestPath })).toEqual({
      registered: 0,
      alreadyRegistered: loaded!.registered,
    });
    expect(await db().trustedDocument.count({ where: { source: 'manifest' } })).toBe(
      loaded!.registered,
    );
    const app = await h.startApp({ trustedDocumentsOnly: true });
    const admin = apolloTrustedDocuments(app.baseUrl, h.adminKey);
    h.onCleanup(() => admin.stop());
    const minted = await admin.mutate({
      mutation: CreateApiKeyMutation,
      variables: { input: { user: 'frontend', name: 'web', scopes: ['READ', 'WRITE'] } },
    });
    // What the client sends, to see that the typed documents go by hash alone.
    const bodies: Array<{ query?: string; extensions?: any }> = [];
    const recording: typeof fetch = (input, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const client = apolloTrustedDocuments(app.baseUrl, minted.data!.createApiKey.key, recording);
    h.onCleanup(() => client.stop());

    const viewer = await client.query({ query: ViewerQuery });
    expect(viewer.data!.viewer).toEqual({ user: 'frontend', scopes: ['READ', 'WRITE'] });
    const created = await client.mutate({
      mutation: CreateTaxonomyMutation,
      variables: {
        input: { name: 'Trusted', version: 't-1', nodes: [{ key: 'root', label: 'Root' }] },
      },
    });
    expect(created.data!.createTaxonomy.version).toBe('t-1');
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body.query).toBeUndefined();
      expect(body.extensions.persistedQuery.sha256Hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    }

    const adHoc = client.query({
      query: gql`
        query AdHoc {
          viewer {
            user
          }
        }
      `,
      fetchPolicy: 'network-only', // not from the cache the Viewer query filled
    });
    await expect(adHoc).rejects.toMatchObject({
      errors: [expect.objectContaining({ extensions: { code: 'TRUSTED_DOCUMENT_REQUIRED' } })],
    });
    // Apollo asked by hash, heard PERSISTED_QUERY_NOT_FOUND, and sent the text, which was refused.
    expect(bodies.slice(2).map((body) => typeof body.query)).toEqual(['undefined', 'string']);
  });
});
