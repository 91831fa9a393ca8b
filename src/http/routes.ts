// The API's routes besides /graphql, as one yoga plugin: / (to GraphiQL), /health, /ready, /metrics,
// graphql-sse at /graphql/stream, and report downloads at /artifacts/….
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import { logger } from '../platform/logger.js';
import { serveArtifactDownload } from './artifact-downloads.js';
import type { ContextOptions } from './context.js';
import type { NodeResponse } from './live/response-stream.js';
import type { SseTransport } from './sse/handler.js';

export interface RouteOptions {
  contextOptions: ContextOptions;
  registry: Registry;
  /** What /ready checks, besides draining. */
  readiness(): Promise<{ database: boolean; pubsub: boolean }>;
  draining(): boolean;
  /** Made after yoga (it runs operations through yoga): asked for on each request. */
  sse(): SseTransport;
}

export function routes(options: RouteOptions): Plugin {
  const log = logger.child({ module: 'routes' });
  return {
    onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      const json = (body: unknown, status = 200) =>
        new fetchAPI.Response(JSON.stringify(body), {
          status,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
      if (url.pathname === '/') {
        // A browser opening the bare address lands in GraphiQL; anything else learns where things are.
        if (request.headers.get('accept')?.includes('text/html')) {
          endResponse(
            new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } }),
          );
        } else {
          endResponse(
            json({
              graphql: '/graphql',
              graphqlStream: '/graphql/stream',
              health: '/health',
              ready: '/ready',
              metrics: '/metrics',
            }),
          );
        }
      } else if (url.pathname === '/health') {
        endResponse(json({ status: 'ok' }));
      } else if (url.pathname === '/ready') {
        return options.readiness().then((checks) => {
          const draining = options.draining();
          const ready = !draining && checks.database && checks.pubsub;
          endResponse(
            json(
              { status: ready ? 'ready' : 'unavailable', draining, ...checks },
              ready ? 200 : 503,
            ),
          );
        });
      } else if (url.pathname === '/metrics') {
        // Unauthenticated like the probes: counts only, no names or ids (see metrics.ts).
        return options.registry.metrics().then(
          (text) =>
            endResponse(
              new fetchAPI.Response(text, {
                headers: { 'content-type': options.registry.contentType },
              }),
            ),
          (error: unknown) => {
            log.error({ err: error }, 'metrics scrape failed');
            endResponse(new fetchAPI.Response('metrics unavailable\n', { status: 503 }));
          },
        );
      } else if (url.pathname === '/graphql/stream') {
        // Under node:http, the stream writes the Node response (live/response-stream.ts).
        const { res } = serverContext as { res?: NodeResponse };
        return options.sse().handle(request, res).then(endResponse);
      } else if (url.pathname.startsWith('/artifacts/')) {
        // Report files (Artifact.downloads), authorised like GraphQL requests.
        return serveArtifactDownload(request, url, options.contextOptions, fetchAPI.Response).then(
          endResponse,
        );
      }
      return undefined;
    },
  };
}
