// A minimal client for graphql-sse's single-connection mode (PROTOCOL.md: PUT reserves a
// stream and returns its token, GET opens it, POST adds operations with an operationId),
// for the fan-out benchmark only: graphql-sse's own client spends ~25 µs per message in
// the subscriber process (fetch body streams, its parser), which at 1,000 subscriptions in
// one process outweighs the server being measured. Tests use graphql-sse's client.
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

export interface StreamMessage {
  event: 'next' | 'complete';
  id: string;
  payload?: { data?: unknown; errors?: unknown[] };
}

function call(agent: Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method, headers }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) body += chunk;
  return body;
}

const COMPLETE = Buffer.from('event: complete');

/**
 * HTTP/1.1 chunked transfer decoding, incremental: the body bytes of each read, as views
 * of it (no copies). The stream's bytes come straight off the socket (see openStream).
 */
class ChunkedBody {
  /** An incomplete chunk-size line, kept until its end arrives. */
  private partialLine: Buffer | undefined;
  /** Data bytes left in the current chunk. */
  private remaining = 0;
  /** Bytes of the CRLF after a chunk's data still to skip. */
  private skip = 0;

  write(input: Buffer, body: (bytes: Buffer) => void): void {
    if (this.partialLine) {
      input = Buffer.concat([this.partialLine, input]);
      this.partialLine = undefined;
    }
    let at = 0;
    while (at < input.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, input.length - at);
        this.skip -= n;
        at += n;
      } else if (this.remaining > 0) {
        const n = Math.min(this.remaining, input.length - at);
        body(input.subarray(at, at + n));
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.skip = 2;
      } else {
        const eol = input.indexOf('\r\n', at);
        if (eol < 0) {
          this.partialLine = Buffer.from(input.subarray(at));
          return;
        }
        this.remaining = parseInt(input.toString('latin1', at, eol), 16);
        at = eol + 2;
        if (!this.remaining) return; // the last chunk: the response ended
      }
    }
  }
}

/**
 * The event stream's GET, on a bare socket. Node's HTTP client costs tens of microseconds
 * per read (parser callbacks, a stream per response, decoding); with a hundred streams
 * read one after another in this one process, that alone would delay the last stream's
 * arrival by milliseconds. Here a read is timed first and decoded later.
 */
function openEventStream(url: URL, headers: Record<string, string>, onBody: (bytes: Buffer, receivedAt: number) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    const lines = [`GET ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let head: Buffer | undefined = Buffer.alloc(0);
    const body = new ChunkedBody();
    socket.on('error', reject);
    socket.on('data', (bytes: Buffer) => {
      const receivedAt = Date.now();
      if (!head) return body.write(bytes, (piece) => onBody(piece, receivedAt));
      head = Buffer.concat([head, bytes]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.toString('latin1', 0, end);
      const rest = head.subarray(end + 4);
      head = undefined;
      if (!/^HTTP\/1\.1 200 /.test(text)) return reject(new Error(`stream: ${text.split('\r\n')[0]}`));
      if (!/\r\ntransfer-encoding: chunked/i.test(text)) return reject(new Error('stream: not chunked'));
      resolve(socket);
      if (rest.length) body.write(rest, (piece) => onBody(piece, receivedAt));
    });
  });
}

export async function openStream(address: string, key: string, onMessage: (message: StreamMessage, receivedAt: number) => void) {
  const url = new URL(address);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const auth = { authorization: `Bearer ${key}` };
  const reservation = await call(agent, url, 'PUT', auth);
  const token = await text(reservation);
  if (reservation.statusCode !== 201) throw new Error(`reservation: HTTP ${reservation.statusCode} ${token}`);
  const headers = { ...auth, 'x-graphql-event-stream-token': token };
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  // Recording: body bytes are kept with their arrival time and parsed later, so that
  // parsing the messages of thousands of subscriptions in this one process does not delay
  // the arrival of the next read (each real subscriber would parse only its own messages).
  let recording: { pieces: [number, Buffer][]; carry: Buffer; onComplete: () => void } | undefined;
  const parse = (bytes: Buffer, receivedAt: number) => {
    buffered += decoder.write(bytes);
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (message.startsWith(':')) continue; // keep-alive
      const event = message.slice(message.indexOf('event: ') + 7, message.indexOf('\n'));
      const data = JSON.parse(message.slice(message.indexOf('data: ') + 6)) as { id: string; payload?: StreamMessage['payload'] };
      onMessage({ event: event as StreamMessage['event'], id: data.id, payload: data.payload }, receivedAt);
    }
  };
  const stream = await openEventStream(url, { ...headers, accept: 'text/event-stream' }, (bytes, receivedAt) => {
    if (!recording) return parse(bytes, receivedAt);
    recording.pieces.push([receivedAt, bytes]);
    // Count completions without parsing; a marker may straddle two reads: `edge` holds the
    // markers that start in the carry (the last bytes before this piece).
    const edge = Buffer.concat([recording.carry, bytes.subarray(0, COMPLETE.length - 1)]);
    for (const each of [edge, bytes]) {
      for (let at = each.indexOf(COMPLETE); at >= 0; at = each.indexOf(COMPLETE, at + 1)) recording.onComplete();
    }
    const tail = bytes.length >= COMPLETE.length - 1 ? bytes : Buffer.concat([recording.carry, bytes]);
    recording.carry = Buffer.from(tail.subarray(-(COMPLETE.length - 1)));
  });
  return {
    async subscribe(operationId: string, query: string, variables: Record<string, unknown>) {
      const body = JSON.stringify({ query, variables, extensions: { operationId } });
      const res = await call(agent, url, 'POST', { ...headers, 'content-type': 'application/json; charset=utf-8' }, body);
      const answer = await text(res);
      if (res.statusCode !== 202) throw new Error(`subscribe: HTTP ${res.statusCode} ${answer}`);
    },
    /** From now on keep the body unparsed; `onComplete` is called per completed operation. */
    record(onComplete: () => void) {
      recording = { pieces: [], carry: Buffer.alloc(0), onComplete };
    },
    /** Parses what was recorded, each message with the arrival time of its last read. */
    replay() {
      const pieces = recording?.pieces ?? [];
      recording = undefined;
      for (const [receivedAt, bytes] of pieces) parse(bytes, receivedAt);
    },
    close() {
      stream.destroy();
      agent.destroy();
    },
  };
}
