// A streamed response body (graphql-sse's event stream, Apollo's multipart subscription).
// Messages sent before the flush pass (flush.ts) leave as one write per stream: a task event
// fanned out to the hundreds of operations of a single-connection stream is one socket
// write, not hundreds. The body is a Node stream, which whatwg-node pipes to the response with
// backpressure; under node:http, once that pipe flows and holds nothing, output goes to the
// Node response directly (see write). A client that stops reading while messages pile up past
// `maxBufferedBytes` is cut off (its client reconnects and resumes from the log with
// afterSequence) instead of growing this process without bound.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { logger } from '../../platform/logger.js';
import { afterNextFlush, flushSoon, type AfterFlush, type Flushable } from './flush.js';

/** The node:http response a stream is sent on, where there is one. */
export type NodeResponse = Pick<ServerResponse, 'write' | 'writableLength' | 'destroy'>;

export interface KeepAlive {
  /** What is sent every `everyMs` on a quiet stream (and once at open, unless `atOpen` is false). */
  message: string;
  everyMs: number;
  /** Sent at open too (default): a first byte, for the clients that wait for one. */
  atOpen?: boolean;
}

/** What sends results through `sendResult`: an operation with its message head built once. */
export interface ResultFraming {
  /** Everything before the result's JSON, e.g. `event: next\ndata: {"id":"1","payload":`. */
  readonly prefix: string;
  /** Everything after it, e.g. `}\n\n`; the same for every operation of a stream. */
  readonly suffix: string;
}

/**
 * Stands between operation prefixes in a cached block. A NUL never occurs in a prefix: the
 * id in it went through JSON.stringify, which escapes control characters.
 */
const MARK = '\u0000';

export class ResponseStream implements Flushable {
  /**
   * Pushed to, never pulled: a bare Readable is half the stream machinery of a PassThrough.
   * Its chunks stay strings (utf8 in, utf8 kept): the socket encodes them as it writes, so
   * no Buffer is made and copied per write.
   */
  readonly body = new Readable({ read() {}, encoding: 'utf8' });
  /** Output not yet written, joined at the flush (no intermediate strings per message). */
  private parts: string[] = [];
  private pending = false;
  /**
   * Operations sent the same result (`batchJson`) since the last other message, in order:
   * one task event fanned out to a stream's operations. Their prefixes are written from a
   * block cached per stream (see batchText).
   */
  private batch: ResultFraming[] = [];
  private batchJson: string | undefined;
  /** The last batch's operations and their prefixes as pieces of one string. */
  private block: { operations: ResultFraming[]; pieces: string[] } | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly onEnd: Array<() => void> = [];

  /**
   * The node:http response under the body: written directly when the body's pipe into it is
   * idle, and destroyed when the stream is cut off, so that its client sees it end.
   */
  response: NodeResponse | undefined;

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly keepAlive: KeepAlive,
  ) {
    this.body.on('close', () => this.end());
  }

  /** The response has started: say so at once (some browsers wait for a first byte), then keep it alive. */
  open(): void {
    if (this.ended) return;
    if (this.keepAlive.atOpen !== false) this.send(this.keepAlive.message);
    this.pinger = setInterval(() => this.send(this.keepAlive.message), this.keepAlive.everyMs);
  }

  send(message: string): void {
    if (this.ended) return;
    this.closeBatch();
    this.parts.push(message);
    this.markPending();
  }

  /** One operation's result: its prefix, the result's JSON (often shared), its suffix. */
  sendResult(operation: ResultFraming, json: string): void {
    if (this.ended) return;
    if (json !== this.batchJson) {
      this.closeBatch();
      this.batchJson = json;
    }
    this.batch.push(operation);
    this.markPending();
  }

  /**
   * Calls `task.flushed()` once everything sent so far, on every stream, is written (or
   * dropped, for a stream that ended). One task event can end thousands of operations at once;
   * their endings wait, so that the event itself leaves first.
   */
  whenFlushed(task: AfterFlush): void {
    if (this.ended) return;
    afterNextFlush(task);
  }

  /** Calls `listener` once when the stream ends, from either side. */
  onceEnded(listener: () => void): void {
    if (this.ended) listener();
    else this.onEnd.push(listener);
  }

  /** Sends what is pending, then ends the response. */
  close(): void {
    this.write();
    if (this.ended) return; // already ended (or cut off by that write)
    this.body.push(null);
    this.end();
  }

  /** Writes the pending output (the flush pass and close call this). */
  write(): void {
    this.pending = false;
    this.closeBatch();
    if (this.ended || !this.parts.length) return;
    const { body, response } = this;
    const text = this.parts.join('');
    this.parts = [];
    // Once whatwg-node pipes the body into the Node response (after writing its head) and
    // nothing waits in the body, writing the response directly keeps the order and saves the
    // stream hop per write. Otherwise (before the head, or while the pipe waits for a drain)
    // the body queues it, in order.
    if (response && body.readableFlowing && body.readableLength === 0) response.write(text);
    else body.push(text, 'utf8');
    // What the socket did not take yet, counted in characters of the body and bytes of the
    // response: bytes for the ASCII of the protocol, a little under for other text.
    const buffered = body.readableLength + (response?.writableLength ?? 0);
    if (buffered > this.maxBufferedBytes) {
      logger.warn({ bufferedBytes: buffered }, 'event stream cut off: its client is not reading');
      body.destroy();
      this.end();
      response?.destroy();
    }
  }

  private markPending(): void {
    if (this.pending) return;
    this.pending = true;
    flushSoon(this);
  }

  private closeBatch(): void {
    if (!this.batch.length) return;
    this.parts.push(this.batchText());
    this.batch = [];
    this.batchJson = undefined;
  }

  /**
   * The batch as text. The same operations in the same order, event after event, reuse one
   * block of their prefixes, split once into pieces that lie together in memory (prefixes
   * scattered over the heap cost more to join than the socket writes; bench/README.md).
   */
  private batchText(): string {
    const { batch } = this;
    if (batch.length === 1) return `${batch[0]!.prefix}${this.batchJson}${batch[0]!.suffix}`;
    let block = this.block;
    if (
      !block ||
      block.operations.length !== batch.length ||
      block.operations.some((operation, i) => operation !== batch[i])
    ) {
      const pieces = `${batch.map((operation) => operation.prefix).join(MARK)}${MARK}`.split(MARK);
      this.block = block = { operations: batch, pieces };
    }
    return block.pieces.join(`${this.batchJson}${batch[0]!.suffix}`);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.parts = [];
    this.batch = [];
    this.block = undefined;
    clearInterval(this.pinger);
    for (const listener of this.onEnd.splice(0)) listener();
  }
}
