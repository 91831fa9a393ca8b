// The API: GraphQL over HTTP at /graphql (GraphiQL in a browser), with subscriptions over
// graphql-sse (/graphql/stream in both modes, and /graphql when an event stream is preferred),
// Apollo's multipart HTTP subscriptions and graphql-ws (a WebSocket upgrade of /graphql), plus
// /health, /ready, /metrics and report downloads. No port is bound here: main.ts and the tests
// do that. The app owns what lives as long as it does: the key cache, feeds, transports, metrics.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import ipaddr from 'ipaddr.js';
import { createYoga, type FetchAPI, type Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import {
  DEFAULT_DOWNLOAD_LINK_TTL_SECONDS,
  DEFAULT_SSE_MAX_BUFFERED_BYTES,
} from '../platform/config.js';
import { DEFAULT_PRESENCE_SETTINGS } from '../platform/presence-settings.js';
import { databaseReachable } from '../platform/db.js';
import { maskError } from '../schema/errors.js';
import { createMetricsRegistry } from '../platform/metrics.js';
import type { PubSub } from '../platform/pubsub.js';
import { ApiKeyAuthenticator } from '../services/auth/authenticator.js';
import type { ServiceDeps } from '../services/deps.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../services/workflows/settings.js';
import { createServiceMetrics, type ServiceMetrics } from '../services/metrics.js';
import { createPresence, type PresenceOptions } from '../services/presence/presence.js';
import type { Context } from '../schema/builder.js';
import { schema } from '../schema/index.js';
import { createContext, type ContextOptions } from './context.js';
import { graphiqlDelivery } from './graphiql/delivery.js';
import { graphiqlOptions } from './graphiql/options.js';
import { createAppFeeds } from './feeds.js';
import { createApiMetrics } from './metrics.js';
import { getParamsCheck } from './get-params.js';
import { maskIncrementalErrors } from './incremental.js';
import {
  documentNestingLimit,
  inputBounds,
  operationLimits,
  validationBudget,
} from './operation-limits.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES, requestBodyLimit } from './request-body-limit.js';
import { readRouting } from './read-routing.js';
import { responseCachePlugins, type ResponseCacheOptions } from './response-cache/plugin.js';
import { createAppRateLimits, type RateLimitOptions } from './rate-limit/app-limits.js';
import type { RateLimits } from './rate-limit/limits.js';
import { routes } from './routes.js';
import type { LiveCore } from './live/core.js';
import { createLiveQueries } from './live-query/plugin.js';
import { StreamGuard } from './live/stream-guard.js';
import { createMultipartTransport } from './multipart/handler.js';
import { createSseTransport } from './sse/handler.js';
import { liveTransports } from './transports-plugin.js';
import { createWsTransport } from './ws/server.js';
import { yogaLogger } from './yoga-logging.js';
import { withOriginFormTarget } from './request-target.js';
import { trustedDocumentPlugins } from './trusted-documents/plugin.js';
import { tracingPlugin } from './tracing/plugin.js';
import { trustedDocuments, type TrustedDocumentsOptions } from './trusted-documents/policy.js';

export interface ServerOptions extends Omit<
  ServiceDeps,
  'apiKeys' | 'keySettings' | 'metrics' | 'workflows' | 'downloadLinks' | 'presence'
> {
  /**
   * Presence in Redis (shared by the API processes) and its timings; default: within this app,
   * DEFAULT_PRESENCE_SETTINGS. Owned by the app: closed with it.
   */
  presence?: Omit<PresenceOptions, 'pubsub'>;
  /** DOWNLOAD_LINK_SECRET and DOWNLOAD_LINK_TTL_SECONDS; default: a secret of this app alone, 1 hour. */
  downloadLinks?: ServiceDeps['downloadLinks'];
  /** Workflow limits (WORKFLOW_*); default DEFAULT_WORKFLOW_SETTINGS. */
  workflows?: ServiceDeps['workflows'];
  /** AUTO_JOIN_DEFAULT_TEAM (default on): a user's first key makes them a MEMBER of `default`. */
  keySettings?: ServiceDeps['keySettings'];
  /** The environment's ADMIN_API_KEY: accepted with every scope. */
  adminApiKey: string | undefined;
  /** Headers GraphiQL starts with (the embedded default fills in its admin key). */
  graphiqlHeaders?: Record<string, string>;
  /** Per event stream: past this much unread output the stream is closed (default 16 MiB). */
  sseMaxBufferedBytes?: number;
  /** Larger request bodies (GraphQL and graphql-sse alike) are refused with 413 (default 25 MB, as yoga's). */
  maxRequestBodyBytes?: number;
  /** What /metrics serves (with ROLE=all the worker adds its own metrics to it); default: a new one. */
  metricsRegistry?: Registry;
  /** The services' counts, registered on metricsRegistry (main makes them once); default: made here. */
  metrics?: ServiceMetrics;
  /** The query response cache (RESPONSE_CACHE) on a shared store; default: none. */
  responseCache?: ResponseCacheOptions;
  /** Token buckets per key, team and client address, and the open-subscription cap; default: none. */
  rateLimits?: RateLimitOptions;
  /** TRUSTED_DOCUMENTS_ONLY; default: any document runs, registered ones also by id. */
  trustedDocuments?: TrustedDocumentsOptions;
  /** Spans for every operation (OTEL_EXPORTER_OTLP_ENDPOINT set); default off: no plugin at all. */
  tracing?: boolean;
  /** The least time between two runs of one live query (default 100 ms; 0: at every change). */
  liveQueryThrottleMs?: number;
}

export { loadTrustedDocumentsManifest } from './trusted-documents/manifest.js';

export type Yoga = ReturnType<typeof createYoga<Record<string, never>, Context>>;

export interface App {
  fetch: (request: Request) => Promise<Response>;
  yoga: Yoga;
  /** node:http's listener: yoga's, behind the request-target check (request-target.ts). */
  requestListener: RequestListener;
  /** Stop reporting ready, so load balancers drain this process before it stops. */
  drain(): void;
  /**
   * Stops the feeds' polls, the open streams' key checks, the revoked-key signal and the live
   * queries' invalidations (the pub/sub belongs to the caller).
   */
  close(): void;
  metricsRegistry: Registry;
  /** The services' counts on metricsRegistry (a worker in this process counts with them too). */
  serviceMetrics: ServiceMetrics;
  /** What every request's context carries besides its caller (for tests that call services directly). */
  contextOptions: ContextOptions;
  /** Serves graphql-ws on this server's /graphql upgrades (main.ts and the tests call it with their server). */
  attachWebSockets(server: Server): void;
  /** Settles once this app's live queries follow the invalidations of every process. */
  liveQueriesReady: Promise<void>;
}

/** A request without a valid key takes from its client address's bucket (as on /graphql). */
async function admitByAddress(
  limits: RateLimits,
  request: Request,
  fetchAPI: FetchAPI,
): Promise<Response | undefined> {
  const address = limits.addresses.get(request) ?? 'unknown';
  const admission = await limits.admit(undefined, address, { kind: 'unknown', cost: 1 });
  if (!admission?.refusal) return undefined;
  const body = JSON.stringify({ errors: [admission.refusal.toJSON()] });
  return new fetchAPI.Response(body, {
    status: 429,
    headers: { ...admission.headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

async function readiness(pubsub: PubSub): Promise<{ database: boolean; pubsub: boolean }> {
  return { database: await databaseReachable(), pubsub: await pubsub.ping() };
}

/** The request came over a socket from this machine (yoga.fetch without a socket does not count). */
function fromLoopback(serverContext: unknown): boolean {
  const address = (serverContext as { req?: IncomingMessage } | undefined)?.req?.socket
    ?.remoteAddress;
  return address !== undefined && ipaddr.process(address).range() === 'loopback';
}

/** yoga with our context, masking, GraphiQL (served from this process: no CDN) and plugins. */
function createYogaServer(
  contextOptions: ContextOptions,
  graphiqlHeaders: Record<string, string> | undefined,
  plugins: Array<Plugin<any>>,
): Yoga {
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request }) => createContext(request, contextOptions),
    maskedErrors: { maskError: (error) => maskError(error) },
    logging: yogaLogger,
    landingPage: false,
    // Our /health answers JSON; yoga's built-in probe (an empty 200) moves out of its way.
    healthCheckEndpoint: '/healthz',
    // The pre-filled (admin) key is for the person at this machine only: never sent over the network.
    graphiql: (_request, serverContext) =>
      graphiqlOptions(fromLoopback(serverContext) ? graphiqlHeaders : undefined),
    // GraphiQL's renderer inlines the whole page (about 9 MB of script, 0.12 s to load): it
    // loads with the first page asked for, not with every process (bench/README.md, "startup").
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maxRequestBodySize: false, // requestBodyLimit checks it (and says why)
    extraParamNames: ['documentId'], // a trusted document's id (trusted-documents/plugin.ts)
    plugins: [graphiqlDelivery(), ...plugins],
  });
}

/** The request and operation limits, in the order they apply. */
const requestLimits = (maxBodyBytes: number) => [
  requestBodyLimit(maxBodyBytes),
  getParamsCheck(),
  documentNestingLimit(),
  operationLimits(),
  validationBudget(),
  inputBounds(),
];

/** The live transports on one core; what the core takes straight from the options is read here. */
function createTransports(
  options: ServerOptions,
  core: Omit<LiveCore, 'maxBufferedBytes' | 'tracing'>,
) {
  const live: LiveCore = {
    ...core,
    maxBufferedBytes: options.sseMaxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES,
    tracing: options.tracing ?? false,
  };
  const ws = createWsTransport(live);
  return { sse: createSseTransport(live), multipart: createMultipartTransport(live), ws };
}

/** What every request's context carries besides its caller: made once per app. */
function appContextOptions(
  options: ServerOptions,
  metrics: ServiceMetrics,
): ContextOptions & { feeds: { close(): void } } {
  const apiKeys = new ApiKeyAuthenticator(options.adminApiKey);
  apiKeys.followRevocations(options.pubsub);
  const { pubsub, llm, topicSettings, webhooks, taskFinished } = options;
  return {
    pubsub,
    llm,
    topicSettings,
    webhooks,
    taskFinished,
    apiKeys,
    keySettings: options.keySettings ?? { autoJoinDefaultTeam: true },
    workflows: options.workflows ?? DEFAULT_WORKFLOW_SETTINGS,
    metrics,
    downloadLinks: options.downloadLinks ?? {
      secret: randomBytes(32).toString('base64url'),
      ttlSeconds: DEFAULT_DOWNLOAD_LINK_TTL_SECONDS,
    },
    feeds: createAppFeeds(pubsub),
    presence: createPresence({
      ...(options.presence ?? { ...DEFAULT_PRESENCE_SETTINGS, keyPrefix: '' }),
      pubsub,
    }),
  };
}

export function createApp(options: ServerOptions): App {
  const registry = options.metricsRegistry ?? createMetricsRegistry();
  const serviceMetrics = options.metrics ?? createServiceMetrics(registry);
  const contextOptions = appContextOptions(options, serviceMetrics);
  const { pubsub, apiKeys, feeds, presence } = contextOptions;
  const metrics = createApiMetrics(registry);
  const maxBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const trusted = trustedDocuments(options.trustedDocuments, contextOptions);
  let draining = false;
  const rateLimits =
    options.rateLimits && createAppRateLimits(options.rateLimits, registry, contextOptions);
  const responseCache =
    options.responseCache &&
    responseCachePlugins(options.responseCache, { schema, contextOptions, registry });
  const liveQueries = createLiveQueries({
    pubsub,
    registry,
    throttleMs: options.liveQueryThrottleMs,
  });
  // The transports run operations through yoga, so they are made right after it.
  const yoga = createYogaServer(contextOptions, options.graphiqlHeaders, [
    // @defer and @stream (incremental delivery), on every transport (live/start-operation.ts),
    // multipart or merged JSON on /graphql (transports-plugin.ts).
    useDeferStream(),
    maskIncrementalErrors(),
    // @live queries: each run again is inside the plugins below, which see one stream.
    ...liveQueries.plugins,
    ...(options.tracing ? [tracingPlugin()] : []),
    metrics.http,
    ...(rateLimits ? [rateLimits.plugins.address] : []),
    routes({
      contextOptions,
      registry,
      readiness: () => readiness(pubsub),
      draining: () => draining,
      sse: () => transports.sse,
      admitWithoutKey:
        rateLimits && ((request, fetchAPI) => admitByAddress(rateLimits, request, fetchAPI)),
    }),
    ...trustedDocumentPlugins(trusted),
    ...(rateLimits ? [rateLimits.plugins.admit] : []),
    liveTransports({ sse: () => transports.sse, multipart: () => transports.multipart }),
    metrics.plugin,
    ...requestLimits(maxBodyBytes),
    readRouting({ mayStore: responseCache ? responseCache.mayStore : undefined }),
    ...(responseCache ? responseCache.plugins : []),
    ...(rateLimits ? [rateLimits.plugins.answer] : []),
  ]);
  const streamGuard = new StreamGuard(apiKeys);
  const transports = createTransports(options, {
    yoga,
    contextOptions,
    maxBodyBytes,
    metrics: metrics.live,
    streamGuard,
    rateLimits,
    trustedDocuments: trusted,
  });
  return {
    fetch: (request) => Promise.resolve(yoga.fetch(request)),
    yoga,
    requestListener: withOriginFormTarget(yoga.requestListener),
    metricsRegistry: registry,
    serviceMetrics,
    contextOptions,
    attachWebSockets: (server) => transports.ws.attach(server),
    liveQueriesReady: liveQueries.ready,
    drain: () => void (draining = true),
    close: () => {
      liveQueries.close();
      transports.ws.close();
      streamGuard.close();
      feeds.close();
      void presence.close();
      apiKeys.close();
      void rateLimits?.close();
    },
  };
}
