// GET /api/metrics/routing?service=plan: the routing snapshot of routingSnapshot
// as JSON, for a key with the ADMIN scope (its team's routes; the operator's key: the
// default team's), with ids as GraphQL gives them.
import type { LlmService } from '../generated/prisma/enums.js';
import { routingSnapshot } from '../services/llm/snapshot.js';
import { toGlobalId } from '../schema/ids.js';
import { callerOf, type ContextOptions } from './context.js';
import { jsonError, serveJsonGet, type JsonAnswer } from './json-get.js';

const SERVICES: Record<string, LlmService> = { plan: 'PLAN', write: 'WRITE' };

export function serveRoutingSnapshot(
  request: Request,
  url: URL,
  options: ContextOptions,
  ResponseClass: typeof Response = Response,
): Promise<Response> {
  return serveJsonGet(request, ResponseClass, (json) =>
    snapshotResponse(request, url, options, json),
  );
}

async function snapshotResponse(
  request: Request,
  url: URL,
  options: ContextOptions,
  json: JsonAnswer,
): Promise<Response> {
  const error = (status: number, code: string, message: string, more: object = {}) =>
    jsonError(json, status, code, message, more);
  const caller = await callerOf(request, options);
  if (!caller) return error(401, 'UNAUTHENTICATED', 'A valid API key is required');
  if (!caller.scopes.has('ADMIN'))
    return error(403, 'FORBIDDEN', 'The routing snapshot needs an ADMIN key');
  const service = SERVICES[url.searchParams.get('service')?.toLowerCase() ?? ''];
  // The query parameter at fault, named as GraphQL's BAD_USER_INPUT names an argument.
  if (!service)
    return error(400, 'BAD_USER_INPUT', 'service must be plan or write', { argument: 'service' });
  const snapshot = await routingSnapshot(service, caller, options.llm);
  return json(
    {
      service: snapshot.service,
      strategy: snapshot.strategy,
      implicit: snapshot.implicit,
      candidates: snapshot.candidates.map((c) => ({
        deployment: c.named
          ? { id: toGlobalId('LlmDeployment', c.named.id), name: c.named.name }
          : null,
        rank: c.rank,
        score: Number.isFinite(c.score) ? c.score : null,
        estimatedCostUsd: c.estimatedCostUsd,
        latencyP50Ms: c.latencyP50Ms,
        excludedReason: c.excludedReason,
      })),
    },
    200,
  );
}
