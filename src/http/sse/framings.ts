// An operation's results as graphql-sse frames them (PROTOCOL.md): on a single-connection
// stream as `{id, payload}` messages, or alone on its own stream (distinct connections).
import type { ResponseStream, ResultFraming } from '../live/response-stream.js';
import { OperationResults } from '../live/operation-results.js';

/** A single-connection stream reserved by PUT and opened by GET, with its operations. */
export interface Reservation {
  stream: ResponseStream;
  connected: boolean;
  /** Running operations by id; null while one is being prepared. */
  operations: Map<string, (() => void) | null>;
  expiry: NodeJS.Timeout;
}

/**
 * An operation's results on a single-connection stream, as `{id, payload}` messages. One
 * object per operation, its message framing built once (see WatchListener on why).
 */
export class StreamOperation extends OperationResults implements ResultFraming {
  readonly transport = 'sse';
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
export class DistinctOperation extends OperationResults {
  readonly transport = 'sse';
  constructor(private readonly stream: ResponseStream) {
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
