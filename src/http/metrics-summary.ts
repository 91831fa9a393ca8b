// GET /api/metrics/summary: the operator's metrics summary as JSON (metricsSummary): the queue
// now and the last five minutes of every worker, the same from every API process. The
// operator's key only, as `Authorization: Bearer` (or X-API-Key): 401 without a valid key,
// 403 for any other, in the JSON of the routing snapshot's refusals.
import { ForbiddenError } from '../platform/errors.js';
import { metricsSummary } from '../services/workers/summary.js';
import { callerOf, type ContextOptions } from './context.js';
import { jsonError, serveJsonGet } from './json-get.js';

export function serveMetricsSummary(
  request: Request,
  options: ContextOptions,
  ResponseClass: typeof Response = Response,
): Promise<Response> {
  return serveJsonGet(request, ResponseClass, async (json) => {
    try {
      const caller = await callerOf(request, options);
      if (!caller) return jsonError(json, 401, 'UNAUTHENTICATED', 'A valid API key is required');
      return json(await metricsSummary(caller), 200);
    } catch (cause) {
      if (cause instanceof ForbiddenError) return jsonError(json, 403, 'FORBIDDEN', cause.message);
      throw cause;
    }
  });
}
