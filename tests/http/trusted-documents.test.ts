// Trusted documents (persisted operations): the operator registers the client preset's
// manifest (registerTrustedDocuments), clients send a registered document by its hash alone
// (Apollo's extensions.persistedQuery.sha256Hash, or documentId over POST and GET), and
// TRUSTED_DOCUMENTS_ONLY refuses any other document on every transport: GraphQL over HTTP,
// graphql-sse, graphql-ws and Apollo's multipart subscriptions.
import { readFileSync } from 'node:fs';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { registerTrustedDocuments } from '../../src/services/trusted-documents/register.js';
import { toGlobalId } from '../../src/schema/ids.js';
import {
  CreateApiKeyMutation,
  TaskProgressSubscription,
  ViewerQuery,
} from '../client/operations.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';

const h = useHarness();
const manifest = JSON.parse(
  readFileSync(new URL('../generated/persisted-documents.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const entries = Object.entries(manifest).map(([hash, document]) => ({ hash, document }));
const REGISTER = `mutation($documents: [TrustedDocumentInput!]!) {
  registerTrustedDocuments(documents: $documents) { registered alreadyRegistered } }`;
const hashOf = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;
const bareHex = (hash: string) => hash.replace(/^sha256:/, '');
const AD_HOC = '{ viewer { user } }';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/** A raw GraphQL-over-HTTP POST with `body` as its JSON: the response. */
function send(app: TestApp, body: unknown, key = h.adminKey, accept = 'application/json') {
  return fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
}

/** send, its status beside its JSON body. */
async function post(app: TestApp, body: unknown, key = h.adminKey, accept = 'application/json') {
  const response = await send(app, body, key, accept);
  return { status: response.status, ...((await response.json()) as any) };
}

async function memberKey(app: TestApp): Promise<string> {
  const minted = await graphql<any, any>(
    app.fetch,
    CreateApiKeyMutation,
    { input: { user: `reader-${Math.random()}`, name: 'web', scopes: ['READ', 'WRITE'] } },
    { key: h.adminKey },
  );
  return minted.data.createApiKey.key;
}

/** Every result (or the error) of one subscription over graphql-sse or graphql-ws, until its first result. */
interface Subscribable {
  subscribe(payload: any, sink: any): () => void;
}

function firstResult(client: Subscribable, payload: Record<string, unknown>) {
  return new Promise<any>((resolve) => {
    const unsubscribe = client.subscribe(payload, {
      next: (value: unknown) => {
        resolve(value);
        unsubscribe();
      },
      error: (error: unknown) => resolve({ errors: Array.isArray(error) ? error : [error] }),
      complete: () => resolve({ completed: true }),
    });
  });
}

describe('trusted documents', () => {
  it('registers the manifest for the operator only, checking every hash and document', async () => {
    await h.startApp();
    const member = await memberKey((await h.startApp()) as TestApp);
    expect(errorCodes(await h.gql(REGISTER, { documents: entries }, member))).toEqual([
      'FORBIDDEN',
    ]);
    const [first, second] = entries as [(typeof entries)[0], (typeof entries)[0]];
    const mismatch = [first, { hash: first.hash, document: second.document }];
    const refused = await h.gql(REGISTER, { documents: mismatch });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0]!.message).toMatch(/not the sha256 of its document/);
    const unknownField = '{ viewer { noSuchField } }';
    const { createHash } = await import('node:crypto');
    const invalid = await h.gql(REGISTER, {
      documents: [
        first,
        { hash: createHash('sha256').update(unknownField).digest('hex'), document: unknownField },
      ],
    });
    expect(errorCodes(invalid)).toEqual(['BAD_USER_INPUT']);
    expect(invalid.errors![0]!.message).toMatch(/noSuchField/);
    expect(await db().trustedDocument.count()).toBe(0);

    const registered = await h.gql(REGISTER, { documents: entries });
    expect(registered.data.registerTrustedDocuments).toEqual({
      registered: entries.length,
      alreadyRegistered: 0,
    });
    const again = await h.gql(REGISTER, { documents: entries });
    expect(again.data.registerTrustedDocuments).toEqual({
      registered: 0,
      alreadyRegistered: entries.length,
    });
    const row = await db().trustedDocument.findUniqueOrThrow({
      where: { hash: bareHex(hashOf(ViewerQuery)) },
    });
    expect(row).toMatchObject({ document: manifest[hashOf(ViewerQuery)], source: 'mutation' });
  });

  it('runs a registered document by its hash over POST and GET; an unknown hash is PERSISTED_QUERY_NOT_FOUND', async () => {
    await registerTrustedDocuments(entries, { manifest: true }); // whether or not the first test ran
    const app = await h.startApp();
    const hash = hashOf(ViewerQuery);
    const apollo = await post(app, {
      extensions: { persistedQuery: { version: 1, sha256Hash: bareHex(hash) } },
    });
    expect(apollo.data.viewer.scopes).toContain('ADMIN');
    const byId = await post(app, { documentId: hash, operationName: 'Viewer' });
    expect(byId.data.viewer.scopes).toContain('ADMIN');
    const get = await fetch(`${app.baseUrl}/graphql?documentId=${encodeURIComponent(hash)}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${h.adminKey}` },
    });
    expect(((await get.json()) as any).data.viewer.scopes).toContain('ADMIN');
    const unknownHash = { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } };
    const unknown = await post(app, { extensions: unknownHash });
    // 200, as Apollo Server answers it, whatever the client accepts: the client resends.
    const strict = await post(app, { extensions: unknownHash }, h.adminKey, GRAPHQL_RESPONSE);
    expect([unknown.status, strict.status]).toEqual([200, 200]);
    expect(errorCodes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(unknown.errors[0].message).toBe('PersistedQueryNotFound');
    // Outside TRUSTED_DOCUMENTS_ONLY any document runs.
    expect((await post(app, { query: AD_HOC }, await memberKey(app))).data.viewer.user).toMatch(
      /^reader-/,
    );
  });

  it('TRUSTED_DOCUMENTS_ONLY refuses unregistered documents over HTTP, graphql-sse, graphql-ws and multipart', async () => {
    await registerTrustedDocuments(entries, { manifest: true });
    const app = await h.startApp({ trustedDocumentsOnly: true });
    const key = await memberKey(app); // the operator's own documents still run
    const http = await post(app, { query: AD_HOC }, key);
    expect(http.status).toBe(400);
    expect(errorCodes(http)).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    const get = await fetch(`${app.baseUrl}/graphql?query=${encodeURIComponent(AD_HOC)}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${key}` },
    });
    expect(errorCodes((await get.json()) as any)).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    // The registered text itself is trusted; so is its hash.
    expect(
      (await post(app, { query: manifest[hashOf(ViewerQuery)] }, key)).data.viewer.user,
    ).toMatch(/^reader-/);
    const owner = await db().user.upsert({
      where: { name: 'owner' },
      create: { name: 'owner' },
      update: {},
    });
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId: owner.id });
    const variables = { taskId: toGlobalId('Task', task.id) };
    const adHocSubscription = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { status } }`;
    const persisted = {
      persistedQuery: { version: 1, sha256Hash: bareHex(hashOf(TaskProgressSubscription)) },
    };

    const sse = createSseClient({
      url: `${app.baseUrl}/graphql/stream`,
      headers: { authorization: `Bearer ${h.adminKey}` },
      retryAttempts: 0,
    });
    const sseMember = createSseClient({
      url: `${app.baseUrl}/graphql/stream`,
      headers: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    const ws = createWsClient({
      url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    h.onCleanup(() => (sse.dispose(), sseMember.dispose(), ws.dispose()));
    const sseRefused = await firstResult(sseMember, { query: adHocSubscription, variables });
    expect(sseRefused.errors.map((e: any) => e.extensions?.code)).toEqual([
      'TRUSTED_DOCUMENT_REQUIRED',
    ]);
    const wsRefused = await firstResult(ws, { query: adHocSubscription, variables });
    expect(wsRefused.errors.map((e: any) => e.extensions?.code)).toEqual([
      'TRUSTED_DOCUMENT_REQUIRED',
    ]);
    // The same subscription by its hash runs (the operator's key sees the task).
    const sseById = await firstResult(sse, { query: '', variables, extensions: persisted });
    expect(sseById.data.taskProgress.status).toBe('PENDING');
    const wsUnknown = await firstResult(ws, {
      query: '',
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: 'cd'.repeat(32) } },
    });
    expect(wsUnknown.errors.map((e: any) => e.extensions?.code)).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    const multipart = await post(
      app,
      { query: adHocSubscription, variables },
      key,
      'multipart/mixed;subscriptionSpec="1.0", application/json',
    );
    expect(errorCodes(multipart)).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    const stream = await send(
      app,
      { query: adHocSubscription, variables },
      key,
      'text/event-stream',
    );
    // On /graphql too, inside the accepted stream (GraphQL over SSE, distinct connections:
    // a check before execution is a `next` event, never a 400 that fails an EventSource).
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await stream.text();
    expect(events).toMatch(/^event: next\ndata: .*"TRUSTED_DOCUMENT_REQUIRED"/m);
    expect(events).toMatch(/^event: complete$/m);
    // Handed to the stream's transport, an ad-hoc query is refused there, never run.
    const query = await send(app, { query: AD_HOC }, key, 'text/event-stream');
    const queryEvents = await query.text();
    expect(queryEvents).toMatch(/"TRUSTED_DOCUMENT_REQUIRED"/);
    expect(queryEvents).not.toMatch(/reader-/);
  });
});
