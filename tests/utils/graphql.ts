// GraphQL over HTTP for tests: through yoga.fetch (no port) or a real URL.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export interface GraphQLResponse<TData> {
  status: number;
  data?: TData | null;
  errors?: GraphQLFormattedError[];
}

export type Fetch = (request: Request) => Promise<Response> | Response;

export interface RequestOptions {
  /** The API key; null sends none. */
  key: string | null;
  headers?: Record<string, string>;
  url?: string;
}

export async function graphql<TData = any, TVariables = Record<string, unknown>>(
  fetch: Fetch,
  document: string | TypedDocumentNode<TData, TVariables>,
  variables: TVariables | undefined,
  options: RequestOptions,
): Promise<GraphQLResponse<TData>> {
  const query = typeof document === 'string' ? document : print(document);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    ...options.headers,
  };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const response = await fetch(
    new Request(options.url ?? 'http://test.local/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = (await response.json()) as { data?: TData; errors?: GraphQLFormattedError[] };
  return { status: response.status, ...body };
}

/** The `extensions.code` of each error, for assertions. */
export const errorCodes = (response: GraphQLResponse<unknown>) =>
  (response.errors ?? []).map((e) => e.extensions?.code);
