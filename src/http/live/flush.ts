// The one write pass of every live transport (graphql-sse, multipart, graphql-ws): output
// produced before the event loop's next check phase leaves as one write per connection, and
// every connection with output is written in the same pass. When one event ends thousands of
// operations, the event reaches every connection before any ending is processed.
import { logger } from '../../platform/logger.js';

/** A connection with output to write. */
export interface Flushable {
  write(): void;
}

/** What waits until the pending output of every connection is written (an operation's end). */
export interface AfterFlush {
  flushed(): void;
}

let pending: Flushable[] = [];
let afterFlush: AfterFlush[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const connections = pending;
  const tasks = afterFlush;
  pending = [];
  afterFlush = [];
  // One connection failing must neither keep the others unwritten nor leave them marked pending.
  for (const connection of connections) {
    try {
      connection.write();
    } catch (err) {
      logger.error({ err }, 'writing a live connection failed');
    }
  }
  for (const task of tasks) {
    try {
      task.flushed();
    } catch (err) {
      logger.error({ err }, 'finishing an operation after a flush failed');
    }
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushAll);
}

/** Writes `connection` in the next pass (call once per pass: the connection tracks that). */
export function flushSoon(connection: Flushable): void {
  pending.push(connection);
  schedule();
}

/** Runs `task.flushed()` after the next pass. */
export function afterNextFlush(task: AfterFlush): void {
  afterFlush.push(task);
  schedule();
}
