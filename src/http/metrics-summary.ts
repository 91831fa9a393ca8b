// GET /api/metrics/summary: the operator's metrics summary as JSON (metricsSummary): the queue
// now and the last five minutes of every worker, the same from every API process. The
// operator's key only, as `Authorization: Bearer` (or X-API-Key): 401 without a valid key,
// 403 for any other, in the JSON of the routing snapshot's refusals.
import { ForbiddenError } from '../platform/errors.js';
import { metricsSummary } from '../services/workers/summary.js';
import { callerOf, type ContextOptions } from './context.js';
import { refusalOf } from './refusal.js';

export async function serveMetricsSummary(
  request: Request,
  options: ContextOptions,
  ResponseClass: typeof Response = Response,
): Promise<Response> {
  const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
    new ResponseClass(JSON.stringify(body), {
      status,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      },
    });
  const error = (status: number, code: string, message: string) =>
    json({ errors: [{ message, extensions: { code } }] }, status);
  if (request.method !== 'GET')
    return new ResponseClass(null, { status: 405, headers: { allow: 'GET' } });
  try {
    const caller = await callerOf(request, options);
    if (!caller) return error(401, 'UNAUTHENTICATED', 'A valid API key is required');
    return json(await metricsSummary(caller), 200);
  } catch (cause) {
    if (cause instanceof ForbiddenError) return error(403, 'FORBIDDEN', cause.message);
    // PostgreSQL away: 503 with Retry-After, as GraphQL answers it.
    const refusal = refusalOf(cause);
    return json({ errors: refusal.errors }, refusal.status, refusal.headers);
  }
}
