// GraphQL-over-HTTP parameters of a graphql-sse request: from a GET's search parameters or a
// POST's JSON body (read with the request body limit), or the HTTP error that refuses them.
import { ErrorCode } from '../../platform/errors.js';
import { readBodyText } from '../request-body-limit.js';
import type { OperationParams } from '../live/core.js';

export type RequestParams = OperationParams;

/** GraphQL-over-HTTP parameters from a GET's search parameters or a POST's JSON body. */
export async function readParams(
  request: Request,
  url: URL,
  maxBodyBytes: number,
): Promise<
  | RequestParams
  | { status: number; errors: Array<{ message: string; extensions?: { code: string } }> }
> {
  const refuse = (status: number, message: string) => ({
    status,
    errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }],
  });
  const bad = (message: string) => refuse(400, message);
  let raw: Record<string, unknown>;
  if (request.method === 'GET') {
    raw = Object.fromEntries(url.searchParams);
    try {
      for (const field of ['variables', 'extensions'] as const)
        if (typeof raw[field] === 'string') raw[field] = JSON.parse(raw[field]);
    } catch {
      return bad('Unparsable URL');
    }
  } else if (
    request.method === 'POST' &&
    request.headers.get('content-type')?.includes('application/json')
  ) {
    const body = await readBodyText(request, maxBodyBytes);
    if ('status' in body) return refuse(body.status, body.message);
    try {
      raw = JSON.parse(body.text) as Record<string, unknown>;
    } catch {
      return bad('The body is not JSON');
    }
    if (Array.isArray(raw)) return bad('Batching is not supported: send one operation per request');
    if (typeof raw !== 'object' || raw === null) return bad('JSON body must be an object');
  } else {
    return refuse(415, 'Send GraphQL as a GET or as a POST of application/json');
  }
  const { query, operationName, variables, extensions, documentId } = raw;
  // Without a query, a trusted document's id (prepare-operation.ts resolves or refuses it).
  const named =
    typeof documentId === 'string' ||
    (extensions as { persistedQuery?: unknown } | null | undefined)?.persistedQuery !== undefined;
  if ((query === undefined || query === null) && !named) return bad('Missing query');
  if (query !== undefined && query !== null && typeof query !== 'string')
    return bad('Invalid query');
  const isObject = (value: unknown) =>
    value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value));
  if (!isObject(variables)) return bad('Invalid variables');
  if (!isObject(extensions)) return bad('Invalid extensions');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return bad('Invalid operationName');
  return {
    query: query as string | null | undefined,
    documentId: typeof documentId === 'string' ? documentId : undefined,
    operationName: operationName as string | null | undefined,
    variables: variables as Record<string, unknown> | null | undefined,
    extensions: extensions as Record<string, unknown> | null | undefined,
  };
}
