// Trusted documents on GraphQL over HTTP (/graphql, GET and POST; the streams negotiated there
// too): @graphql-yoga/plugin-persisted-operations swaps a registered id for its document
// before anything else reads the parameters. The live transports' own endpoints resolve
// theirs in live/prepare-operation.ts with the same policy (resolveTrustedOperation below).
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { sentAsEventStream } from '../representation.js';
import {
  documentIdOf,
  persistedQueryNotFound,
  queryMissing,
  trustedDocumentRequired,
  type DocumentIdParams,
  type TrustedDocuments,
} from './policy.js';

/** Put before every plugin that reads the parameters (the live transports' negotiation, the cache). */
export function trustedDocumentPlugins(trusted: TrustedDocuments): Plugin[] {
  // Requests whose document text TRUSTED_DOCUMENTS_ONLY lets through (registered, or the operator's).
  const allowed = new WeakSet<Request>();
  const admit: Plugin = {
    async onParams({ request, params }) {
      if (typeof params.query !== 'string') return;
      // An event stream's document is checked by its transport, and refused in the stream.
      if (sentAsEventStream(request, params) || (await trusted.mayRun(params.query, request)))
        allowed.add(request);
    },
  };
  const persisted = usePersistedOperations({
    allowArbitraryOperations: trusted.only ? (request) => allowed.has(request) : true,
    extractPersistedOperationId: (params, request) =>
      documentIdOf(params as DocumentIdParams, request) ?? null,
    getPersistedOperation: async (id) => (await trusted.registry.find(id)) ?? null,
    customErrors: {
      notFound: persistedQueryNotFound,
      keyNotFound: queryMissing,
      persistedQueryOnly: trustedDocumentRequired,
    },
  }) as Plugin;
  return trusted.only ? [admit, persisted] : [persisted];
}

/** For the live transports' endpoints: the document to run, or the error that refuses it. */
export async function resolveTrustedOperation<P extends DocumentIdParams & { query?: unknown }>(
  trusted: TrustedDocuments,
  request: Request,
  params: P,
): Promise<(P & { query: string }) | GraphQLError> {
  const { query } = params;
  if (typeof query === 'string' && query !== '')
    return (await trusted.mayRun(query, request))
      ? (params as P & { query: string })
      : trustedDocumentRequired();
  const id = documentIdOf(params);
  if (id === undefined) return queryMissing();
  const document = await trusted.registry.find(id);
  return document === undefined ? persistedQueryNotFound() : { ...params, query: document };
}
