// One text/event-stream response body. Messages sent before the event loop's next check
// phase leave as one write: a task event fanned out to the hundreds of operations of a
// single-connection stream is one socket write, not hundreds. The body is a Node stream,
// which whatwg-node pipes to the socket with backpressure; a client that stops reading
// while messages pile up past `maxBufferedBytes` is cut off (its client reconnects and
// resumes from the log with afterSequence) instead of growing this process without bound.
import { PassThrough } from 'node:stream';

/** graphql-sse's keep-alive: a comment every 12 s keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 12_000;

export class EventStream {
  readonly body = new PassThrough();
  private text = '';
  private flushScheduled = false;
  private pinger: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly onEnd: Array<() => void> = [];

  constructor(private readonly maxBufferedBytes: number) {
    this.body.on('close', () => this.end());
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The response has started: say so at once (some browsers wait for a first byte), then keep it alive. */
  open(): void {
    if (this.ended) return;
    this.send(':\n\n');
    this.pinger = setInterval(() => this.send(':\n\n'), KEEP_ALIVE_MS);
  }

  send(message: string): void {
    if (this.ended) return;
    this.text += message;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Calls `listener` once when the stream ends, from either side. */
  onceEnded(listener: () => void): void {
    if (this.ended) listener();
    else this.onEnd.push(listener);
  }

  /** Sends what is pending, then ends the response. */
  close(): void {
    if (this.ended) return;
    this.flush();
    this.body.end();
    this.end();
  }

  private readonly flush = () => {
    this.flushScheduled = false;
    if (!this.text || this.ended) return;
    this.body.write(this.text);
    this.text = '';
    if (this.body.writableLength + this.body.readableLength > this.maxBufferedBytes) this.body.destroy();
  };

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.text = '';
    clearInterval(this.pinger);
    for (const listener of this.onEnd.splice(0)) listener();
  }
}
