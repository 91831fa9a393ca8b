// What the fan-out benchmark's light clients share: a response read straight off a socket
// (HTTP/1.1 chunked bodies decoded incrementally), and recording: a read is timed when it
// arrives and parsed after the run, so that one process standing in for thousands of
// subscribers does not queue their arrivals behind each other's parsing.
import { connect, type Socket } from 'node:net';

/**
 * HTTP/1.1 chunked transfer decoding, incremental: the body bytes of each read, as views
 * of it (no copies). The stream's bytes come straight off the socket (see openStream).
 */
export class ChunkedBody {
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
export function openHttpStream(
  url: URL,
  request: { method: string; headers: Record<string, string>; body?: string },
  onBody: (bytes: Buffer, receivedAt: number) => void,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    const body = request.body === undefined ? '' : request.body;
    const extra = request.body === undefined ? [] : [`content-length: ${Buffer.byteLength(body)}`];
    const lines = [
      `${request.method} ${url.pathname} HTTP/1.1`,
      `Host: ${url.host}`,
      ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      ...extra,
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    let head: Buffer | undefined = Buffer.alloc(0);
    const chunked = new ChunkedBody();
    socket.on('error', reject);
    socket.on('data', (bytes: Buffer) => {
      const receivedAt = Date.now();
      if (!head) return chunked.write(bytes, (piece) => onBody(piece, receivedAt));
      head = Buffer.concat([head, bytes]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.toString('latin1', 0, end);
      const rest = head.subarray(end + 4);
      head = undefined;
      if (!/^HTTP\/1\.1 200 /.test(text))
        return reject(new Error(`stream: ${text.split('\r\n')[0]}`));
      if (!/\r\ntransfer-encoding: chunked/i.test(text))
        return reject(new Error('stream: not chunked'));
      resolve(socket);
      if (rest.length) chunked.write(rest, (piece) => onBody(piece, receivedAt));
    });
  });
}

/** Body bytes kept unparsed, with their arrival times, while completions are counted. */
export interface Recording {
  pieces: [number, Buffer][];
  /** The last bytes before the next piece, where a completion marker may start. */
  carry: Buffer;
  onComplete: () => void;
  /** What marks a completed operation in the bytes. */
  marker: Buffer;
}

/** Keeps one read of the body and calls `onComplete` for each completion marker in it. */
export function recordPiece(recording: Recording, bytes: Buffer, receivedAt: number): void {
  recording.pieces.push([receivedAt, bytes]);
  // Count completions without parsing; a marker may straddle two reads: `edge` holds the
  // markers that start in the carry (the last bytes before this piece).
  const edge = Buffer.concat([recording.carry, bytes.subarray(0, recording.marker.length - 1)]);
  for (const each of [edge, bytes]) {
    for (
      let at = each.indexOf(recording.marker);
      at >= 0;
      at = each.indexOf(recording.marker, at + 1)
    )
      recording.onComplete();
  }
  const tail =
    bytes.length >= recording.marker.length - 1 ? bytes : Buffer.concat([recording.carry, bytes]);
  recording.carry = Buffer.from(tail.subarray(-(recording.marker.length - 1)));
}
