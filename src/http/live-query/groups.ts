// Equal live queries share each execution (docs/clients.md, "Live queries"). The live query
// store runs a query again for every subscription it holds; here the same document, operation,
// variables and caller (visibility.ts) are one subscription of the store, whose every result
// each of them is sent, unless it equals the last one sent. A query joining later starts with
// the latest result; the last one to leave stops the execution. By hand (a few lines): the
// store has no such sharing, and a member must join at once (a Repeater's would only once
// first read).
import type { DocumentNode, ExecutionResult } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import { sharedJson } from '../live/operation-results.js';

type Started = AsyncIterable<ExecutionResult> | ExecutionResult;

/**
 * The store marks each result `isLive`, a key no GraphQL response has (the response format:
 * https://spec.graphql.org/October2021/#sec-Response-Format): left out.
 */
function withoutLiveMark(result: ExecutionResult & { isLive?: boolean }): ExecutionResult {
  if (!('isLive' in result)) return result;
  const { isLive: _isLive, ...rest } = result;
  return rest;
}

/**
 * One live query's results as its transport reads them. Only the newest result matters: one
 * not read yet is replaced by the next.
 */
class Member implements AsyncIterableIterator<ExecutionResult> {
  private unread: ExecutionResult | undefined;
  private waiting: ((next: IteratorResult<ExecutionResult>) => void) | undefined;
  private failed: ((error: unknown) => void) | undefined;
  private stopped = false;
  private error: unknown;

  constructor(private readonly group: LiveGroup) {}

  push(result: ExecutionResult): void {
    if (this.stopped) return;
    const waiting = this.waiting;
    this.waiting = this.failed = undefined;
    if (waiting) waiting({ value: result, done: false });
    else this.unread = result;
  }

  /** The execution ended; with an error, the next read throws it (after the unread result). */
  stop(error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.error = error;
    const { waiting, failed } = this;
    this.waiting = this.failed = undefined;
    if (!waiting) return; // the next read sees it
    this.error = undefined;
    if (error !== undefined) failed!(error);
    else waiting({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const unread = this.unread;
    if (unread) {
      this.unread = undefined;
      return Promise.resolve({ value: unread, done: false });
    }
    if (this.stopped) {
      const { error } = this;
      this.error = undefined;
      return error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.unread = undefined;
    this.stop();
    this.group.leave(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** One execution on the store and the live queries that follow it. */
class LiveGroup {
  private readonly members = new Set<Member>();
  private latest: ExecutionResult | undefined;
  private iterator: AsyncIterator<ExecutionResult> | undefined;
  private ended = false;

  constructor(private readonly remove: () => void) {}

  /** Sends each of the execution's results to every member, until it ends or nobody follows. */
  async run(started: Started | Promise<Started>): Promise<void> {
    try {
      const source = await started;
      if (!isAsyncIterable(source)) return this.end(source);
      const iterator = source[Symbol.asyncIterator]();
      this.iterator = iterator;
      if (this.ended) return void iterator.return?.();
      let sent: string | undefined;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const latest = withoutLiveMark(next.value);
        // A run that answers what the last one did is not sent (a change elsewhere, another
        // team's row, made the query run again): the text is the one the transports send.
        const text = sharedJson(latest);
        if (text === sent) continue;
        sent = text;
        this.latest = latest;
        for (const member of this.members) member.push(latest);
      }
      this.end();
    } catch (error) {
      this.end(undefined, error);
    }
  }

  join(member: Member): void {
    this.members.add(member);
    if (this.latest) member.push(this.latest);
  }

  leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size || this.ended) return;
    this.ended = true;
    this.remove();
    void this.iterator?.return?.();
  }

  /** The execution ended (a result that is not live, or an error): so do its members. */
  private end(last?: ExecutionResult, error?: unknown): void {
    this.ended = true;
    this.remove();
    for (const member of this.members) {
      if (last) member.push(last);
      member.stop(error);
    }
    this.members.clear();
  }
}

export class LiveGroups {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, LiveGroup>>();

  /**
   * The results of a live query, shared with the equal ones running: `key` says what besides
   * the document makes them equal, `start` runs it on the store when none does.
   */
  follow(
    document: DocumentNode,
    key: string,
    start: () => Started | Promise<Started>,
  ): AsyncIterableIterator<ExecutionResult> {
    let groups = this.byDocument.get(document);
    if (!groups) this.byDocument.set(document, (groups = new Map()));
    let group = groups.get(key);
    if (!group) {
      const created = new LiveGroup(() => {
        if (groups.get(key) === created) groups.delete(key);
      });
      groups.set(key, (group = created));
      void created.run(start());
    }
    const member = new Member(group);
    group.join(member);
    return member;
  }
}
