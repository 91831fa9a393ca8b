// One graphql-ws connection (the graphql-transport-ws protocol, graphql-ws's PROTOCOL.md):
// connection_init with the API key in its payload, then subscribe / next / error / complete
// per operation, ping / pong. Operations run on the same live core as graphql-sse's, and
// their messages of one flush pass leave in one socket write. graphql-ws's own server
// (makeServer) iterates every subscription and serialises every message apart, the cost the
// graphql-sse handler was written to avoid; its protocol definitions are used here.
import type { Socket } from 'node:net';
import { CloseCode, MessageType, parseMessage, stringifyMessage, type Message } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { logger } from '../../platform/logger.js';
import { callerOf } from '../context.js';
import type { LiveCore } from '../live/core.js';
import { afterNextFlush, flushSoon, type AfterFlush, type Flushable } from '../live/flush.js';
import { OperationResults } from '../live/operation-results.js';
import { startOperation } from '../live/start-operation.js';
import { admitLive, ANONYMOUS } from '../rate-limit/live.js';
import { refusalOf, type Refusal } from '../refusal.js';
import { textFrames } from './frames.js';

/** graphql-ws's default: a client that does not initialise within this long is closed (4408). */
const INIT_TIMEOUT_MS = 3_000;
const SUFFIX = Buffer.from('}');
/** RFC 6455 §7.4 (IANA's registry): the server is overloaded or away for now; try again later. */
const TRY_AGAIN_LATER = 1013;
const REFUSED = Symbol('refused');

/** The result text of one event is shared by its subscriptions: encoded once per pass, not per subscription. */
let lastJson: string | undefined;
let lastJsonBytes: Buffer | undefined;
function utf8(json: string): Buffer {
  if (json !== lastJson) {
    lastJson = json;
    lastJsonBytes = Buffer.from(json);
  }
  return lastJsonBytes!;
}

/** The API key of connection_init's payload: `Authorization` ("Bearer …") or `apiKey`. */
function keyHeaders(payload: unknown): Headers {
  const headers = new Headers();
  if (typeof payload !== 'object' || payload === null) return headers;
  for (const [name, value] of Object.entries(payload)) {
    if (typeof value !== 'string') continue;
    const lower = name.toLowerCase();
    if (lower === 'authorization') headers.set('authorization', value);
    else if (lower === 'apikey' || lower === 'x-api-key') headers.set('x-api-key', value);
  }
  return headers;
}

class WsOperation extends OperationResults implements AfterFlush {
  readonly transport = 'ws';
  readonly prefix: Buffer;
  done = false;

  constructor(
    private readonly connection: WsConnection,
    readonly id: string,
  ) {
    super();
    this.prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  }

  protected deliver(json: string): void {
    this.connection.queue([this.prefix, utf8(json), SUFFIX]);
  }

  protected finish(): void {
    if (this.done) return;
    this.done = true;
    afterNextFlush(this);
  }

  /** The results are out: now the completion. */
  flushed(): void {
    if (this.connection.forget(this))
      this.connection.send({ id: this.id, type: MessageType.Complete });
  }
}

export class WsConnection implements Flushable {
  private readonly operations = new Map<string, { results: WsOperation; stop?: () => void }>();
  private outbox: Array<readonly Buffer[]> = [];
  private initialised = false;
  private request: Request | undefined;
  private readonly initTimer: NodeJS.Timeout;

  constructor(
    private readonly live: LiveCore,
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    /** The client's address, for the rate limit of requests without a valid key. */
    private readonly address: string,
  ) {
    this.initTimer = setTimeout(
      () =>
        !this.request &&
        this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout'),
      INIT_TIMEOUT_MS,
    );
    ws.on(
      'message',
      (data, isBinary) =>
        void this.receive(isBinary ? '' : data.toString()).catch((err) => this.fail(err)),
    );
    ws.once('close', () => this.closed());
  }

  /** One message's pieces, sent in the next flush pass. */
  queue(pieces: readonly Buffer[]): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.outbox.push(pieces) === 1) flushSoon(this);
  }

  send(message: Message): void {
    this.queue([Buffer.from(stringifyMessage(message))]);
  }

  /** Drops an ended operation; false when it was stopped or closed already. */
  forget(results: WsOperation): boolean {
    if (this.operations.get(results.id)?.results !== results) return false;
    this.operations.delete(results.id);
    return true;
  }

  /** The flush pass: every queued message in one write; a client that stops reading is cut off. */
  write(): void {
    const messages = this.outbox;
    this.outbox = [];
    if (!messages.length || this.ws.readyState !== this.ws.OPEN) return;
    this.socket.write(textFrames(messages));
    if (this.socket.writableLength > this.live.maxBufferedBytes) {
      logger.warn(
        { bufferedBytes: this.socket.writableLength },
        'graphql-ws connection cut off: its client is not reading',
      );
      this.ws.terminate();
    }
  }

  private async receive(text: string): Promise<void> {
    let message: Message;
    try {
      message = parseMessage(text);
    } catch {
      return this.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.initialise(message.payload);
      case MessageType.Ping:
        return this.send({ type: MessageType.Pong });
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.subscribe(message.id, message.payload);
      case MessageType.Complete:
        return this.stop(message.id);
      default:
        return this.close(
          CloseCode.BadRequest,
          `Unexpected message of type ${message.type} received`,
        );
    }
  }

  private async initialise(payload: unknown): Promise<void> {
    if (this.initialised)
      return this.close(
        CloseCode.TooManyInitialisationRequests,
        'Too many initialisation requests',
      );
    this.initialised = true;
    const request = new Request('http://graphql-ws/graphql', {
      method: 'POST',
      headers: keyHeaders(payload),
    });
    this.live.rateLimits?.addresses.set(request, this.address);
    const caller = await this.callerOr(request, (refusal) =>
      // PostgreSQL away: 1013 Try Again Later (RFC 6455's registry of close codes), which
      // graphql-ws clients retry; not 4500, which they take as fatal and give up on.
      this.close(
        TRY_AGAIN_LATER,
        `SERVICE_UNAVAILABLE: retry in ${refusal.headers['Retry-After'] ?? 1} s`,
      ),
    );
    if (caller === REFUSED) return;
    if (!caller) {
      const limited = await admitLive(this.live.rateLimits, request, undefined, ANONYMOUS);
      const retry = limited && `Rate limited: retry in ${limited.refusal.extensions.retryAfter} s`;
      return this.close(CloseCode.Forbidden, retry ?? 'Forbidden');
    }
    this.request = request;
    clearTimeout(this.initTimer);
    this.send({ type: MessageType.ConnectionAck });
  }

  private async subscribe(
    id: string,
    payload: {
      query: string;
      operationName?: string | null;
      variables?: Record<string, unknown> | null;
      extensions?: Record<string, unknown> | null;
    },
  ): Promise<void> {
    const { request } = this;
    if (!request) return this.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id))
      return this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const results = new WsOperation(this, id);
    this.operations.set(id, { results });
    // A key revoked since the connection began ends it, as a revoked key ends HTTP access.
    // PostgreSQL away: the operation's error message says SERVICE_UNAVAILABLE.
    const caller = await this.callerOr(request, (refusal) => {
      if (this.forget(results))
        this.send({ id, type: MessageType.Error, payload: refusal.errors.map((e) => e.toJSON()) });
    });
    if (caller === REFUSED) return;
    if (!caller) return this.close(CloseCode.Forbidden, 'Forbidden');
    const start = await startOperation(
      this.live,
      request,
      {
        query: payload.query,
        operationName: payload.operationName,
        variables: payload.variables,
        // A trusted document's id (with an empty query: graphql-ws requires the field).
        extensions: payload.extensions,
      },
      results,
    );
    if (start.kind === 'refused') {
      if (this.forget(results))
        this.send({
          id,
          type: MessageType.Error,
          payload: start.errors.map((error) => error.toJSON()),
        });
      return;
    }
    const entry = this.operations.get(id);
    if (entry?.results === results) entry.stop = start.stop;
    else start.stop(); // completed by the client (or closed) while it was being prepared
  }

  private stop(id: string): void {
    const entry = this.operations.get(id);
    this.operations.delete(id);
    entry?.stop?.();
  }

  /**
   * The key's caller (null: no valid key); when it cannot be looked up because PostgreSQL is
   * away, `unavailable` answers and REFUSED is returned. Any other failure is thrown.
   */
  private async callerOr(
    request: Request,
    unavailable: (refusal: Refusal) => void,
  ): Promise<Awaited<ReturnType<typeof callerOf>> | typeof REFUSED> {
    try {
      return await callerOf(request, this.live.contextOptions);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal.status !== 503) throw error;
      unavailable(refusal);
      return REFUSED;
    }
  }

  private close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private fail(error: unknown): void {
    logger.error({ err: error }, 'graphql-ws message handling failed');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }

  private closed(): void {
    clearTimeout(this.initTimer);
    this.outbox = [];
    for (const { stop } of this.operations.values()) stop?.();
    this.operations.clear();
  }
}
