// The graphql-sse protocol (graphql-sse's PROTOCOL.md) in both modes:
// - distinct connections: a GET or POST with `Accept: text/event-stream` carries one
//   operation and is answered with a stream of its results (`next` events, then `complete`),
//   at /graphql/stream, and at /graphql when the client prefers an event stream;
// - single connection, at /graphql/stream: PUT reserves a stream and answers its token; GET
//   (with the token) opens it; POST (with the token and `extensions.operationId`) adds an
//   operation, whose results arrive on the stream as `{id, payload}`; DELETE stops one.
// Written here rather than through graphql-sse's createHandler: its handler runs every
// operation through its own async loop and serialises each result per operation; here a
// subscriber's event is a string concatenation of a result shared by equal subscriptions.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../platform/errors.js';
import { callerOf } from '../context.js';
import { refusalOf } from '../refusal.js';
import type { LiveCore, OperationParams } from '../live/core.js';
import { ResponseStream, type NodeResponse } from '../live/response-stream.js';
import { requestErrors } from '../live/prepare-operation.js';
import { startOperation } from '../live/start-operation.js';
import { admitLive, ANONYMOUS } from '../rate-limit/live.js';
import { DistinctOperation, StreamOperation, type Reservation } from './framings.js';
import { readParams } from './params.js';

export interface SseTransport {
  /** /graphql/stream: every request of the protocol. */
  handle(request: Request, response?: NodeResponse): Promise<Response>;
  /** /graphql with an event stream preferred: one operation whose parameters yoga has read. */
  distinct(request: Request, params: OperationParams, response?: NodeResponse): Promise<Response>;
}

/** PROTOCOL.md: the stream token travels in this header or the `token` search parameter. */
const TOKEN_HEADER = 'x-graphql-event-stream-token';
/** A reservation nobody connects to is dropped after this long. */
const RESERVATION_TTL_MS = 60_000;
/** graphql-sse's keep-alive: a comment every 12 s keeps proxies from closing a quiet stream. */
const KEEP_ALIVE = { message: ':\n\n', everyMs: 12_000 };

const EVENT_STREAM_HEADERS = {
  connection: 'keep-alive',
  'cache-control': 'no-cache',
  'content-encoding': 'none',
  'content-type': 'text/event-stream; charset=utf-8',
};

export function createSseTransport(live: LiveCore): SseTransport {
  const protocol = new SseProtocol(live);
  // Every request authenticates like a query. Stream tokens carry their owner's id, so one
  // caller cannot attach operations to another caller's stream.
  const authenticated = async (
    request: Request,
    then: (userId: string) => Promise<Response> | Response,
  ) => {
    let caller: Awaited<ReturnType<typeof callerOf>>;
    try {
      caller = await callerOf(request, live.contextOptions);
    } catch (error) {
      const refusal = refusalOf(error);
      return protocol.json(refusal.status, { errors: refusal.errors }, refusal.headers);
    }
    if (!caller) {
      const limited = await admitLive(live.rateLimits, request, undefined, ANONYMOUS);
      if (limited)
        return protocol.json(429, { errors: requestErrors([limited.refusal]) }, limited.headers);
      return protocol.errors(401, 'A valid API key is required', ErrorCode.UNAUTHENTICATED, {
        'www-authenticate': 'Bearer',
      });
    }
    return then(caller.userId);
  };
  return {
    handle: (request, response) =>
      authenticated(request, (userId) => protocol.handle(request, userId, response)),
    distinct: (request, params, response) =>
      authenticated(request, () => protocol.distinct(request, params, response)),
  };
}

class SseProtocol {
  private readonly reservations = new Map<string, Reservation>();
  private readonly Response: typeof Response;

  constructor(private readonly live: LiveCore) {
    this.Response = live.yoga.fetchAPI.Response;
  }

  async handle(request: Request, userId: string, response?: NodeResponse): Promise<Response> {
    const url = new URL(request.url);
    // PROTOCOL.md: PUT answers a new token. A client may still send the token of its last
    // stream (graphql-sse's client keeps it in the headers it was given): it is not reused.
    if (request.method === 'PUT') return this.reserve(`${userId}.${randomUUID()}`);
    const presented = request.headers.get(TOKEN_HEADER) ?? url.searchParams.get('token');
    if (presented && !presented.startsWith(`${userId}.`))
      return this.errors(403, 'This stream token belongs to another caller', ErrorCode.FORBIDDEN);
    const reservation = presented ? this.reservations.get(presented) : undefined;
    if (presented && !reservation) return this.errors(404, 'Stream not found', ErrorCode.NOT_FOUND);
    const wantsStream = request.headers.get('accept')?.includes('text/event-stream') ?? false;
    if (wantsStream && reservation) return this.connect(reservation, response);
    if (wantsStream) {
      const params = await readParams(request, url, this.live.maxBodyBytes);
      return 'errors' in params
        ? this.json(params.status, { errors: params.errors })
        : this.distinct(request, params, response);
    }
    if (!['GET', 'POST', 'DELETE'].includes(request.method))
      return this.empty(405, { allow: 'GET, POST, PUT, DELETE' });
    if (!reservation) return this.errors(404, 'Stream not found', ErrorCode.NOT_FOUND);
    if (request.method === 'DELETE')
      return this.stopOperation(reservation, url.searchParams.get('operationId'));
    const params = await readParams(request, url, this.live.maxBodyBytes);
    if ('errors' in params) return this.json(params.status, { errors: params.errors });
    const operationId = params.extensions?.operationId;
    if (operationId === undefined || operationId === null || operationId === '')
      return this.errors(400, 'Operation ID is missing', ErrorCode.BAD_USER_INPUT);
    return this.addOperation(request, reservation, { ...params, operationId: String(operationId) });
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new this.Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });
  }

  errors(
    status: number,
    message: string,
    code: ErrorCode,
    headers: Record<string, string> = {},
  ): Response {
    return this.json(status, { errors: [{ message, extensions: { code } }] }, headers);
  }

  private empty(status: number, headers: Record<string, string> = {}): Response {
    return new this.Response(null, { status, headers });
  }

  private newStream(response?: NodeResponse): ResponseStream {
    const stream = new ResponseStream(this.live.maxBufferedBytes, KEEP_ALIVE);
    stream.response = response;
    this.live.metrics.opened('sse');
    stream.onceEnded(() => this.live.metrics.closed('sse'));
    return stream;
  }

  /**
   * Distinct connections: one operation, one stream, closed after its last result. Request
   * errors arrive as a `next` event on the accepted stream (PROTOCOL.md, distinct mode);
   * a refusal that is not about the document (a mutation over GET) is an HTTP answer.
   */
  async distinct(
    request: Request,
    params: OperationParams,
    response?: NodeResponse,
  ): Promise<Response> {
    const stream = this.newStream(response);
    stream.open();
    const results = new DistinctOperation(stream);
    const start = await startOperation(this.live, request, params, results);
    if (start.kind === 'refused' && start.status !== 400) {
      stream.close();
      return this.json(start.status, { errors: start.errors }, start.headers);
    }
    if (start.kind === 'refused') {
      results.send(JSON.stringify({ errors: start.errors }));
      results.complete();
    } else {
      stream.onceEnded(start.stop);
    }
    return new this.Response(stream.body as never, { status: 200, headers: EVENT_STREAM_HEADERS });
  }

  private reserve(token: string): Response {
    const stream = this.newStream();
    const reservation: Reservation = {
      stream,
      connected: false,
      operations: new Map(),
      expiry: setTimeout(
        () => !reservation.connected && stream.close(),
        RESERVATION_TTL_MS,
      ).unref(),
    };
    this.reservations.set(token, reservation);
    stream.onceEnded(() => {
      clearTimeout(reservation.expiry);
      if (this.reservations.get(token) === reservation) this.reservations.delete(token);
      for (const stop of reservation.operations.values()) stop?.();
      reservation.operations.clear();
    });
    return new this.Response(token, {
      status: 201,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }

  private connect(reservation: Reservation, response?: NodeResponse): Response {
    if (reservation.connected) return this.errors(409, 'Stream already open', ErrorCode.CONFLICT);
    reservation.connected = true;
    reservation.stream.response = response;
    reservation.stream.open();
    return new this.Response(reservation.stream.body as never, {
      status: 200,
      headers: EVENT_STREAM_HEADERS,
    });
  }

  /**
   * Single connection: results on the reserved stream; request errors answered here, as GraphQL
   * over HTTP does (PROTOCOL.md).
   */
  private async addOperation(
    request: Request,
    reservation: Reservation,
    params: OperationParams & { operationId: string },
  ): Promise<Response> {
    const { operationId: id, ...operation } = params;
    if (reservation.operations.has(id))
      return this.errors(409, 'Operation with ID already exists', ErrorCode.CONFLICT);
    reservation.operations.set(id, null);
    const results = new StreamOperation(reservation, id);
    const start = await startOperation(this.live, request, operation, results);
    if (start.kind === 'refused') {
      reservation.operations.delete(id);
      return this.json(start.status, { errors: start.errors }, start.headers);
    }
    // Stopped (DELETE) or the stream ended while this was being prepared.
    if (!reservation.operations.has(id) && !results.done) {
      start.stop();
      return this.empty(204);
    }
    if (!results.done) reservation.operations.set(id, start.stop);
    return this.empty(202);
  }

  private stopOperation(reservation: Reservation, id: string | null): Response {
    if (!id) return this.errors(400, 'Operation ID is missing', ErrorCode.BAD_USER_INPUT);
    const stop = reservation.operations.get(id);
    reservation.operations.delete(id);
    stop?.();
    return this.empty(200);
  }
}
