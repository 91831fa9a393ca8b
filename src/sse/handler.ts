// The graphql-sse protocol (graphql-sse's PROTOCOL.md) at /graphql/stream, and for
// event-stream requests at /graphql, in both modes:
// - distinct connections: a GET or POST with `Accept: text/event-stream` carries one
//   operation and is answered with a stream of its results (`next` events, then `complete`);
// - single connection: PUT reserves a stream and answers its token; GET (with the token)
//   opens it; POST (with the token and `extensions.operationId`) adds an operation, whose
//   results arrive on the stream as `{id, payload}`; DELETE `?operationId=` stops one.
// Written here rather than through graphql-sse's createHandler: its handler runs every
// operation through its own async loop and serialises each result per operation, which
// for one task event sent to thousands of subscribers was most of the fan-out's cost;
// here a subscriber's event is a string concatenation (operations.ts shares the JSON).
// graphql-sse's client is what the tests speak to it with.
import { randomUUID } from 'node:crypto';
import type { YogaServerInstance } from 'graphql-yoga';
import { callerOf, type Context, type ContextOptions } from '../context.js';
import { ErrorCode } from '../errors.js';
import { readBodyText } from '../request-body-limit.js';
import { EventStream, type ResultFraming } from './event-stream.js';
import { OperationResults, startOperation, type OperationParams } from './operations.js';

type Yoga = YogaServerInstance<Record<string, never>, Context>;

/** PROTOCOL.md: the stream token travels in this header or the `token` search parameter. */
const TOKEN_HEADER = 'x-graphql-event-stream-token';
/** A reservation nobody connects to is dropped after this long. */
const RESERVATION_TTL_MS = 60_000;

interface Reservation {
  stream: EventStream;
  connected: boolean;
  /** Running operations by id; null while one is being prepared. */
  operations: Map<string, (() => void) | null>;
  expiry: NodeJS.Timeout;
}

const EVENT_STREAM_HEADERS = {
  connection: 'keep-alive',
  'cache-control': 'no-cache',
  'content-encoding': 'none',
  'content-type': 'text/event-stream; charset=utf-8',
};

/**
 * An operation's results on a single-connection stream, as `{id, payload}` messages. One
 * object per operation, its message framing built once (see WatchListener on why).
 */
class StreamOperation extends OperationResults implements ResultFraming {
  done = false;
  readonly prefix: string;
  readonly suffix = '}\n\n';

  constructor(
    private readonly reservation: Reservation,
    private readonly id: string,
  ) {
    super();
    // Joined, not a template literal: V8 keeps a template's result as a tree of pieces
    // (a cons string), which every flush would walk again, ten thousand times per event.
    this.prefix = ['event: next\ndata: {"id":', JSON.stringify(id), ',"payload":'].join('');
  }

  protected deliver(result: string): void {
    if (!this.done) this.reservation.stream.sendResult(this, result);
  }

  protected finish(): void {
    if (this.done) return;
    this.done = true;
    this.reservation.stream.whenFlushed(this);
  }

  /** The results are out: now the completion and the bookkeeping. */
  flushed(): void {
    this.reservation.stream.send(`event: complete\ndata: {"id":${JSON.stringify(this.id)}}\n\n`);
    this.reservation.operations.delete(this.id);
  }
}

/** An operation's results on its own stream (distinct-connections mode); the stream ends with it. */
class DistinctOperation extends OperationResults {
  constructor(private readonly stream: EventStream) {
    super();
  }

  protected deliver(result: string): void {
    this.stream.send(`event: next\ndata: ${result}\n\n`);
  }

  protected finish(): void {
    this.stream.send('event: complete\ndata:\n\n');
    this.stream.close();
  }
}

/** How to close the connection under a request (from the server adapter; absent: nothing). */
export type CloseConnection = () => void;

export function createSseHandler(
  yoga: Yoga,
  contextOptions: ContextOptions,
  maxBufferedBytes: number,
  maxBodyBytes: number,
  streamCount?: { opened(): void; closed(): void },
): (request: Request, closeConnection?: CloseConnection) => Promise<Response> {
  const { Response } = yoga.fetchAPI;
  const reservations = new Map<string, Reservation>();
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
  const empty = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });
  const errors = (status: number, message: string, code?: ErrorCode, headers: Record<string, string> = {}) =>
    json(status, { errors: [{ message, ...(code ? { extensions: { code } } : {}) }] }, headers);

  function newStream(closeConnection?: CloseConnection): EventStream {
    const stream = new EventStream(maxBufferedBytes);
    stream.closeConnection = closeConnection;
    if (streamCount) {
      streamCount.opened();
      stream.onceEnded(() => streamCount.closed());
    }
    return stream;
  }

  /** Distinct connections: one operation, one stream, closed after its last result. */
  async function distinct(request: Request, params: OperationParams, closeConnection?: CloseConnection): Promise<Response> {
    const stream = newStream(closeConnection);
    stream.open();
    const start = await startOperation(yoga, request, params, new DistinctOperation(stream));
    if (start.kind === 'refused') {
      stream.close();
      return json(start.status, start.body, start.headers);
    }
    stream.onceEnded(start.stop);
    return new Response(stream.body as never, { status: 200, headers: EVENT_STREAM_HEADERS });
  }

  function reserve(token: string): Response {
    if (reservations.has(token)) return errors(409, 'Stream already registered');
    const stream = newStream();
    const reservation: Reservation = {
      stream,
      connected: false,
      operations: new Map(),
      expiry: setTimeout(() => !reservation.connected && stream.close(), RESERVATION_TTL_MS).unref(),
    };
    reservations.set(token, reservation);
    stream.onceEnded(() => {
      clearTimeout(reservation.expiry);
      if (reservations.get(token) === reservation) reservations.delete(token);
      for (const stop of reservation.operations.values()) stop?.();
      reservation.operations.clear();
    });
    return new Response(token, { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  function connect(reservation: Reservation, closeConnection?: CloseConnection): Response {
    if (reservation.connected) return errors(409, 'Stream already open');
    reservation.connected = true;
    reservation.stream.closeConnection = closeConnection;
    reservation.stream.open();
    return new Response(reservation.stream.body as never, { status: 200, headers: EVENT_STREAM_HEADERS });
  }

  async function addOperation(request: Request, reservation: Reservation, params: OperationParams & { operationId: string }): Promise<Response> {
    const { operationId: id, ...operation } = params;
    if (reservation.operations.has(id)) return errors(409, 'Operation with ID already exists');
    reservation.operations.set(id, null);
    const results = new StreamOperation(reservation, id);
    const start = await startOperation(yoga, request, operation, results);
    if (start.kind === 'refused') {
      reservation.operations.delete(id);
      return json(start.status, start.body, start.headers);
    }
    // Stopped (DELETE) or the stream ended while this was being prepared.
    if (!reservation.operations.has(id) && !results.done) {
      start.stop();
      return empty(204);
    }
    if (!results.done) reservation.operations.set(id, start.stop);
    return empty(202);
  }

  function stopOperation(reservation: Reservation, id: string | null): Response {
    if (!id) return errors(400, 'Operation ID is missing');
    const stop = reservation.operations.get(id);
    reservation.operations.delete(id);
    stop?.();
    return empty(200);
  }

  return async (request, closeConnection) => {
    // Every request authenticates like a query. Stream tokens carry their owner's id, so
    // one caller cannot attach operations to another caller's stream.
    const caller = await callerOf(request, contextOptions);
    if (!caller) return errors(401, 'A valid API key is required', ErrorCode.UNAUTHENTICATED, { 'www-authenticate': 'Bearer' });
    const url = new URL(request.url);
    const presented = request.headers.get(TOKEN_HEADER) ?? url.searchParams.get('token');
    if (presented && !presented.startsWith(`${caller.userId}.`)) {
      return errors(403, 'This stream token belongs to another caller', ErrorCode.FORBIDDEN);
    }
    const reservation = presented ? reservations.get(presented) : undefined;
    const wantsStream = request.headers.get('accept') === 'text/event-stream';

    if (wantsStream && reservation) return connect(reservation, closeConnection);
    if (wantsStream) {
      const params = await readParams(request, url, maxBodyBytes);
      return 'errors' in params ? json(params.status, { errors: params.errors }) : distinct(request, params, closeConnection);
    }
    if (request.method === 'PUT') return reserve(presented ?? `${caller.userId}.${randomUUID()}`);
    if (!['GET', 'POST', 'DELETE'].includes(request.method)) return empty(405, { allow: 'GET, POST, PUT, DELETE' });
    if (!reservation) return errors(404, 'Stream not found');
    if (request.method === 'DELETE') return stopOperation(reservation, url.searchParams.get('operationId'));
    const params = await readParams(request, url, maxBodyBytes);
    if ('errors' in params) return json(params.status, { errors: params.errors });
    const operationId = params.extensions?.operationId;
    if (operationId === undefined || operationId === null || operationId === '') return errors(400, 'Operation ID is missing');
    return addOperation(request, reservation, { ...params, operationId: String(operationId) });
  };
}

type RequestParams = OperationParams & { extensions?: Record<string, unknown> | null };

/** GraphQL-over-HTTP parameters from a GET's search parameters or a POST's JSON body. */
async function readParams(
  request: Request,
  url: URL,
  maxBodyBytes: number,
): Promise<RequestParams | { status: number; errors: Array<{ message: string; extensions?: { code: string } }> }> {
  const bad = (message: string) => ({ status: 400, errors: [{ message }] });
  let raw: Record<string, unknown>;
  if (request.method === 'GET') {
    raw = Object.fromEntries(url.searchParams);
    try {
      for (const field of ['variables', 'extensions'] as const) if (typeof raw[field] === 'string') raw[field] = JSON.parse(raw[field]);
    } catch {
      return bad('Unparsable URL');
    }
  } else if (request.method === 'POST' && request.headers.get('content-type')?.includes('application/json')) {
    const body = await readBodyText(request, maxBodyBytes);
    if ('status' in body) return { status: body.status, errors: [{ message: body.message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] };
    try {
      raw = JSON.parse(body.text) as Record<string, unknown>;
    } catch {
      return bad('The body is not JSON');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('JSON body must be an object');
  } else {
    return { status: 415, errors: [{ message: 'Send GraphQL as a GET or as a POST of application/json' }] };
  }
  const { query, operationName, variables, extensions } = raw;
  if (query === undefined || query === null) return bad('Missing query');
  if (typeof query !== 'string') return bad('Invalid query');
  const isObject = (value: unknown) => value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value));
  if (!isObject(variables)) return bad('Invalid variables');
  if (!isObject(extensions)) return bad('Invalid extensions');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return bad('Invalid operationName');
  return {
    query,
    operationName: operationName as string | null | undefined,
    variables: variables as Record<string, unknown> | null | undefined,
    extensions: extensions as Record<string, unknown> | null | undefined,
  };
}
