// HTTP requests on /metrics: by route and status, with how long the answer took and its size.
// A route is a fixed name (never the URL: paths carry artifact ids, query strings anything).
// The duration runs until the response is handed to the server: a whole answer for JSON, the
// opening for an event stream or multipart subscription (their life is in the *_open
// gauges). The size is the body's, when the response says it (Content-Length); streams have none.
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

const ROUTES = new Map<string, string>([
  ['/', 'root'],
  ['/graphql', 'graphql'],
  ['/graphql/stream', 'graphql_stream'],
  ['/health', 'health'],
  ['/healthz', 'health'],
  ['/ready', 'ready'],
  ['/metrics', 'metrics'],
]);

/** The route's name; anything unknown is `other` (a 404, a scanner). */
function routeOf(pathname: string): string {
  return ROUTES.get(pathname) ?? (pathname.startsWith('/artifacts/') ? 'artifacts' : 'other');
}

function httpFamilies(registry: Registry) {
  return {
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route (a fixed name) and status code.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'From the request to its response being handed over (for streams: their opening), by route.',
      labelNames: ['route'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    size: new Histogram({
      name: 'http_response_size_bytes',
      help: 'Response body sizes by route, when the response states its length (streams do not).',
      labelNames: ['route'] as const,
      buckets: [64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
      registers: [registry],
    }),
  };
}

/** A yoga plugin; it goes first, so that its clock starts before the other plugins' work. */
export function httpMetricsPlugin(registry: Registry): Plugin {
  const { requests, duration, size } = httpFamilies(registry);
  const started = new WeakMap<Request, { at: number; route: string }>();
  return {
    onRequest({ request, url }) {
      started.set(request, { at: performance.now(), route: routeOf(url.pathname) });
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const route = start?.route ?? routeOf(new URL(request.url).pathname);
      requests.inc({ route, status: String(response.status) });
      if (start) duration.observe({ route }, (performance.now() - start.at) / 1000);
      const length = response.headers.get('content-length');
      if (length !== null && Number.isFinite(Number(length)))
        size.observe({ route }, Number(length));
    },
  };
}
