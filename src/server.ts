// The API: GraphQL over HTTP at /graphql (GraphiQL in a browser), graphql-sse at
// /graphql/stream (both modes) and for event-stream requests at /graphql, plus
// /health and /ready. No port is bound here: main.ts and the tests do that.
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import { DEFAULT_SSE_MAX_BUFFERED_BYTES } from './config.js';
import { createContext, type Context, type ContextOptions } from './context.js';
import { databaseReachable } from './db.js';
import { maskError } from './errors.js';
import { logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { operationLimits } from './operation-limits.js';
import type { PubSub } from './pubsub.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES, requestBodyLimit } from './request-body-limit.js';
import { followRevokedApiKeys } from './resolvers/auth.js';
import { TaskEventHub } from './resolvers/task-events.js';
import { serveArtifactDownload } from './resolvers/topic-downloads.js';
import { schema } from './schema/index.js';
import { createSseHandler } from './sse/handler.js';

export interface ServerOptions {
  adminApiKey: string | undefined;
  pubsub: PubSub;
  /** Headers GraphiQL starts with (the embedded default fills in its admin key). */
  graphiqlHeaders?: Record<string, string>;
  /** Per event stream: past this much unread output the stream is closed (default 16 MiB). */
  sseMaxBufferedBytes?: number;
  /** Larger request bodies (GraphQL and graphql-sse alike) are refused with 413 (default 25 MB, as yoga's). */
  maxRequestBodyBytes?: number;
}

export interface App {
  fetch: (request: Request) => Promise<Response>;
  yoga: ReturnType<typeof createYoga<Record<string, never>, Context>>;
  /** Stop reporting ready, so load balancers drain this process before it stops. */
  drain(): void;
  /** Stops the task event hub's poll and the revoked-key signal (the pub/sub belongs to the caller). */
  close(): void;
  /** What /metrics serves; with ROLE=all the worker adds its own metrics to it. */
  metricsRegistry: Registry;
}

/** graphql-sse distinct-connections requests on /graphql are recognised by their Accept header. */
function wantsEventStream(request: Request): boolean {
  const accept = request.headers.get('accept') ?? '';
  return accept.split(',').some((part) => part.trim().split(';')[0] === 'text/event-stream');
}

async function readiness(pubsub: PubSub): Promise<{ database: boolean; pubsub: boolean }> {
  return { database: await databaseReachable(), pubsub: await pubsub.ping() };
}

const yogaLog = logger.child({ module: 'yoga' });
/**
 * Expected failures (GraphQL errors all the way down: bad input, auth, not found) are
 * the caller's, not ours; maskError logs the unexpected ones.
 */
const isClientError = (value: unknown) =>
  value instanceof GraphQLError && (!value.originalError || value.originalError instanceof GraphQLError);
const yogaLogger = {
  debug: (...args: unknown[]) => yogaLog.debug(args[0] as object, ...(args.slice(1) as [])),
  info: (...args: unknown[]) => yogaLog.info(args[0] as object, ...(args.slice(1) as [])),
  warn: (...args: unknown[]) => yogaLog.warn(args[0] as object, ...(args.slice(1) as [])),
  error: (...args: unknown[]) =>
    (isClientError(args[0]) ? yogaLog.debug : yogaLog.error).call(yogaLog, args[0] as object, ...(args.slice(1) as [])),
};

export function createApp(options: ServerOptions): App {
  const taskEvents = new TaskEventHub(options.pubsub);
  const contextOptions: ContextOptions = { adminApiKey: options.adminApiKey, pubsub: options.pubsub, taskEvents };
  const metrics = createMetrics();
  const maxRequestBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const revokedKeys = followRevokedApiKeys(options.pubsub);
  let draining = false;
  let sseHandler: ReturnType<typeof createSseHandler> | undefined;

  const routes: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      const json = (body: unknown, status = 200) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
      if (url.pathname === '/health') {
        endResponse(json({ status: 'ok' }));
      } else if (url.pathname === '/ready') {
        return readiness(options.pubsub).then((checks) => {
          const ready = !draining && checks.database && checks.pubsub;
          endResponse(json({ status: ready ? 'ready' : 'unavailable', draining, ...checks }, ready ? 200 : 503));
        });
      } else if (url.pathname === '/metrics') {
        // Unauthenticated like the probes: counts only, no names or ids (see metrics.ts).
        return metrics.registry.metrics().then(
          (text) => endResponse(new fetchAPI.Response(text, { headers: { 'content-type': metrics.registry.contentType } })),
          (error: unknown) => {
            yogaLog.error({ err: error }, 'metrics scrape failed');
            endResponse(new fetchAPI.Response('metrics unavailable\n', { status: 503 }));
          },
        );
      } else if (url.pathname === '/graphql/stream' || (url.pathname === '/graphql' && wantsEventStream(request))) {
        let forwarded = request;
        if (request.headers.get('accept') !== 'text/event-stream' && wantsEventStream(request)) {
          // graphql-sse matches the Accept header exactly.
          const headers = new fetchAPI.Headers(request.headers);
          headers.set('accept', 'text/event-stream');
          forwarded = new fetchAPI.Request(request, { headers });
        }
        // Under node:http, a stream cut off for not reading closes its connection.
        const { res } = serverContext as { res?: { destroy(): void } };
        return sseHandler!(forwarded, res && (() => res.destroy())).then(endResponse);
      } else if (url.pathname.startsWith('/artifacts/')) {
        // Report files (Artifact.downloads), authorised like GraphQL requests.
        return serveArtifactDownload(request, url, contextOptions, fetchAPI.Response).then(endResponse);
      }
      return undefined;
    },
  };

  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request }) => createContext(request, contextOptions),
    maskedErrors: { maskError: (error) => maskError(error) },
    logging: yogaLogger,
    landingPage: false,
    // Our /health (above) answers JSON; yoga's built-in probe (an empty 200) moves out of its way.
    healthCheckEndpoint: '/healthz',
    graphiql: {
      title: 'Agent Growth API',
      // GraphiQL's subscriptions use SSE on /graphql, which the routes above send to graphql-sse.
      subscriptionsProtocol: 'SSE',
      headers: options.graphiqlHeaders ? JSON.stringify(options.graphiqlHeaders, null, 2) : undefined,
      shouldPersistHeaders: false,
    },
    // The GraphiQL bundle is served from this process: no CDN, works offline.
    renderGraphiQL,
    maxRequestBodySize: false, // requestBodyLimit below checks it (and says why)
    plugins: [routes, metrics.plugin, requestBodyLimit(maxRequestBodyBytes), operationLimits()],
  });
  sseHandler = createSseHandler(
    yoga,
    contextOptions,
    options.sseMaxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES,
    maxRequestBodyBytes,
    { opened: metrics.streamOpened, closed: metrics.streamClosed },
  );

  return {
    fetch: (request) => Promise.resolve(yoga.fetch(request)),
    yoga,
    metricsRegistry: metrics.registry,
    drain: () => {
      draining = true;
    },
    close: () => {
      taskEvents.close();
      revokedKeys.return();
    },
  };
}
