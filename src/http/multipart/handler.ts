// Apollo's multipart HTTP subscriptions (Apollo's "Multipart HTTP protocol for GraphQL
// Subscriptions", what Apollo Client's HttpLink speaks by default): a subscription posted to
// /graphql with `Accept: multipart/mixed;subscriptionSpec="1.0"` is answered with one part
// per result, `{"payload": <result>}`, an empty `{}` part as a heartbeat, and the closing
// boundary when the subscription completes. Request errors are a GraphQL-over-HTTP answer.
import { ErrorCode } from '../../platform/errors.js';
import { callerOf } from '../context.js';
import { refusalOf } from '../refusal.js';
import type { LiveCore, OperationParams } from '../live/core.js';
import { OperationResults } from '../live/operation-results.js';
import { ResponseStream, type NodeResponse, type ResultFraming } from '../live/response-stream.js';
import { requestErrors } from '../live/prepare-operation.js';
import { startOperation } from '../live/start-operation.js';
import { admitLive, ANONYMOUS } from '../rate-limit/live.js';
import { negotiate } from '../negotiation.js';

export interface MultipartTransport {
  subscribe(request: Request, params: OperationParams, response?: NodeResponse): Promise<Response>;
}

// Every part is followed at once by the delimiter (RFC 2046 §5.1.1): a client knows a part is
// whole when it sees the next delimiter, so each one is written right after its part, and the
// end turns the last delimiter into the closing one.
export const DELIMITER = '\r\n--graphql';
export const PART_HEAD = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';
const END = '--\r\n';
/**
 * The protocol's heartbeat: an empty object part, every 5 s (as Apollo's router sends it). Not
 * as the first part: the opening delimiter is the first byte already, and urql's fetchExchange
 * takes the first part for a result (an empty one fails it).
 */
const HEARTBEAT = { message: `${PART_HEAD}{}${DELIMITER}`, everyMs: 5_000, atOpen: false };

const MULTIPART_HEADERS = {
  connection: 'keep-alive',
  'cache-control': 'no-cache',
  'content-encoding': 'none',
  'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
};

/** One operation's results as parts of its own response; the response ends with it. */
class MultipartOperation extends OperationResults implements ResultFraming {
  readonly transport = 'multipart';
  readonly prefix = `${PART_HEAD}{"payload":`;
  readonly suffix = `}${DELIMITER}`;

  constructor(private readonly stream: ResponseStream) {
    super();
  }

  protected deliver(result: string): void {
    this.stream.sendResult(this, result);
  }

  protected finish(): void {
    this.stream.send(END);
    this.stream.close();
  }
}

export function createMultipartTransport(live: LiveCore): MultipartTransport {
  const { Response } = live.yoga.fetchAPI;
  // A refusal before the stream is one JSON answer, in the JSON type the client accepts.
  const json = (
    request: Request,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const type =
      negotiate(request.headers.get('accept'), 'single') === 'json'
        ? 'application/json'
        : 'application/graphql-response+json';
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': `${type}; charset=utf-8`, ...headers },
    });
  };
  return {
    async subscribe(request, params, response) {
      let caller: Awaited<ReturnType<typeof callerOf>>;
      try {
        caller = await callerOf(request, live.contextOptions);
      } catch (error) {
        const refusal = refusalOf(error);
        return json(request, refusal.status, { errors: refusal.errors }, refusal.headers);
      }
      if (!caller) {
        const limited = await admitLive(live.rateLimits, request, undefined, ANONYMOUS);
        if (limited)
          return json(request, 429, { errors: requestErrors([limited.refusal]) }, limited.headers);
        const error = {
          message: 'A valid API key is required',
          extensions: { code: ErrorCode.UNAUTHENTICATED },
        };
        return json(request, 401, { errors: [error] }, { 'www-authenticate': 'Bearer' });
      }
      const stream = new ResponseStream(live.maxBufferedBytes, HEARTBEAT);
      stream.response = response;
      live.metrics.opened('multipart');
      stream.onceEnded(() => live.metrics.closed('multipart'));
      stream.send(DELIMITER);
      stream.open();
      const start = await startOperation(live, request, params, new MultipartOperation(stream));
      if (start.kind === 'refused') {
        stream.close();
        return json(request, start.status, { errors: start.errors }, start.headers);
      }
      stream.onceEnded(start.stop);
      return new Response(stream.body as never, { status: 200, headers: MULTIPART_HEADERS });
    },
  };
}
