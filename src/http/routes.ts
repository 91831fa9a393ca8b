// The API's routes besides /graphql, as one yoga plugin: / (to GraphiQL), /health, /ready, /metrics,
// the operator's JSON under /api/metrics/, graphql-sse at /graphql/stream, and report downloads
// at /artifacts/….
import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import { logger, type Logger } from '../platform/logger.js';
import { serveArtifactDownload } from './artifact-downloads.js';
import type { ContextOptions } from './context.js';
import type { NodeResponse } from './live/response-stream.js';
import { serveMetricsSummary } from './metrics-summary.js';
import type { SseTransport } from './sse/handler.js';
import { serveRoutingSnapshot } from './routing-snapshot.js';

export interface RouteOptions {
  contextOptions: ContextOptions;
  registry: Registry;
  /** What /ready checks, besides draining. */
  readiness(): Promise<{ database: boolean; pubsub: boolean }>;
  draining(): boolean;
  /** Made after yoga (it runs operations through yoga): asked for on each request. */
  sse(): SseTransport;
  /**
   * A download without a valid key (a signed link, a wrong key): its client address's bucket,
   * as for /graphql; a 429 answer when it is empty. Unset: no rate limits.
   */
  admitWithoutKey?(request: Request, fetchAPI: FetchAPI): Promise<Response | undefined>;
}

interface RouteRequest {
  request: Request;
  url: URL;
  fetchAPI: FetchAPI;
  serverContext: unknown;
}

/** A route answers at once (the probes) or later (anything that reads or streams). */
type Route = (route: RouteRequest) => Response | Promise<Response>;

export function routes(options: RouteOptions): Plugin {
  const byPath = routeTable(options, logger.child({ module: 'routes' }));
  const artifacts: Route = ({ request, url, fetchAPI }) =>
    // Report files (Artifact.downloads), authorised like GraphQL requests.
    serveArtifactDownload(request, url, options.contextOptions, fetchAPI.Response, async () =>
      options.admitWithoutKey?.(request, fetchAPI),
    );
  return {
    onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      const route =
        byPath.get(url.pathname) ?? (url.pathname.startsWith('/artifacts/') ? artifacts : null);
      if (!route) return undefined;
      const response = route({ request, url, fetchAPI, serverContext });
      if (response instanceof Promise) return response.then(endResponse);
      endResponse(response);
      return undefined;
    },
  };
}

function routeTable(options: RouteOptions, log: Logger): Map<string, Route> {
  return new Map<string, Route>([
    ['/', ({ request, fetchAPI }) => landing(request, fetchAPI)],
    ['/health', ({ fetchAPI }) => json(fetchAPI, { status: 'ok' })],
    ['/ready', ({ fetchAPI }) => ready(options, fetchAPI)],
    ['/metrics', ({ fetchAPI }) => scrape(options.registry, log, fetchAPI)],
    [
      '/api/metrics/routing',
      ({ request, url, fetchAPI }) =>
        serveRoutingSnapshot(request, url, options.contextOptions, fetchAPI.Response),
    ],
    [
      '/api/metrics/summary',
      ({ request, fetchAPI }) =>
        serveMetricsSummary(request, options.contextOptions, fetchAPI.Response),
    ],
    // Under node:http, the stream writes the Node response (live/response-stream.ts).
    [
      '/graphql/stream',
      ({ request, serverContext }) =>
        options.sse().handle(request, (serverContext as { res?: NodeResponse }).res),
    ],
  ]);
}

const json = (fetchAPI: FetchAPI, body: unknown, status = 200) =>
  new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

/** A browser opening the bare address lands in GraphiQL; anything else learns where things are. */
function landing(request: Request, fetchAPI: FetchAPI): Response {
  if (request.headers.get('accept')?.includes('text/html'))
    return new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } });
  return json(fetchAPI, {
    graphql: '/graphql',
    graphqlStream: '/graphql/stream',
    health: '/health',
    ready: '/ready',
    metrics: '/metrics',
    routing: '/api/metrics/routing?service=plan',
    summary: '/api/metrics/summary',
  });
}

async function ready(options: RouteOptions, fetchAPI: FetchAPI): Promise<Response> {
  const checks = await options.readiness();
  const draining = options.draining();
  const isReady = !draining && checks.database && checks.pubsub;
  const status = isReady ? 'ready' : 'unavailable';
  return json(fetchAPI, { status, draining, ...checks }, isReady ? 200 : 503);
}

/** Unauthenticated like the probes: counts only, no names or ids (see metrics.ts). */
function scrape(registry: Registry, log: Logger, fetchAPI: FetchAPI): Promise<Response> {
  return registry.metrics().then(
    (text) => new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } }),
    (error: unknown) => {
      log.error({ err: error }, 'metrics scrape failed');
      return new fetchAPI.Response('metrics unavailable\n', { status: 503 });
    },
  );
}
