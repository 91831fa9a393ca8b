// What a request may run, with trusted documents: a registered document named by its id
// (graphql-over-http's `documentId`, or Apollo's extensions.persistedQuery.sha256Hash), or a
// document sent as text, which TRUSTED_DOCUMENTS_ONLY accepts only when it is registered
// (or from the operator's key, so GraphiQL and the registering mutation still work).
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../platform/errors.js';
import { TrustedDocumentRegistry } from '../../services/trusted-documents/registry.js';
import { callerOf, type ContextOptions } from '../context.js';

export interface TrustedDocumentsOptions {
  /** TRUSTED_DOCUMENTS_ONLY: refuse every document that is not registered. */
  only: boolean;
}

export interface TrustedDocuments extends TrustedDocumentsOptions {
  registry: TrustedDocumentRegistry;
  /** Whether this document text may run for this request (always, unless `only`). */
  mayRun(query: string, request: Request): Promise<boolean>;
}

/** This app's policy (default: any document runs), on a registry of its own (its cache). */
export function trustedDocuments(
  options: TrustedDocumentsOptions = { only: false },
  contextOptions: Pick<ContextOptions, 'apiKeys'>,
): TrustedDocuments {
  const registry = new TrustedDocumentRegistry();
  return {
    ...options,
    registry,
    mayRun: async (query, request) =>
      !options.only ||
      (await registry.contains(query)) ||
      Boolean((await callerOf(request, contextOptions))?.isOperator),
  };
}

/** The parameters that may name a trusted document besides the query text. */
export interface DocumentIdParams {
  documentId?: unknown;
  extensions?: unknown;
}

/** The document id a request names: `documentId` (body or URL), else Apollo's persistedQuery hash. */
export function documentIdOf(params: DocumentIdParams, request?: Request): string | undefined {
  if (typeof params.documentId === 'string') return params.documentId;
  // yoga's GET parser keeps only the four standard parameters: documentId is read from the URL.
  if (request?.method === 'GET') {
    const fromUrl = new URL(request.url).searchParams.get('documentId');
    if (fromUrl) return fromUrl;
  }
  const persisted = (params.extensions as { persistedQuery?: unknown } | null | undefined)
    ?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string'
    ? persisted.sha256Hash
    : undefined;
}

// Apollo's clients resend the full document on this message or code (when they may).
export const persistedQueryNotFound = () =>
  new GraphQLError('PersistedQueryNotFound', {
    extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND },
  });

export const trustedDocumentRequired = () =>
  new GraphQLError(
    'Only trusted documents are accepted here: send a registered document by its id ' +
      '(documentId, or extensions.persistedQuery.sha256Hash)',
    { extensions: { code: ErrorCode.TRUSTED_DOCUMENT_REQUIRED, http: { status: 400 } } },
  );

/** No document and no id: what yoga answers to a missing query (masked to BAD_USER_INPUT). */
export const queryMissing = () =>
  new GraphQLError('Must provide query string.', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });
