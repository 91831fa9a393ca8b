// A live query (`@live`) on a live transport: its first result, then the whole result again
// whenever what it read changes (src/http/live-query), each sent as a `next`. It is held as a
// subscription is: one of its key's open subscriptions, ended when its key is refused, and run
// again as the caller now is when their rights change (stream-guard.ts), since what a caller
// sees is part of what equal live queries share.
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import { streamLiveQuery } from '../live-query/store.js';
import type { Context, LiveCore } from './core.js';
import { errorJson, sharedJson, toJson, type OperationResults } from './operation-results.js';
import {
  refusedForUnavailable,
  requestErrors,
  type OperationStart,
  type PreparedOperation,
  type Refusal,
} from './prepare-operation.js';

type Refuse = (errors: ExecutionResult['errors']) => Refusal | undefined;

/** One live query's execution on the store, as `results` sends it; started again by `rerun`. */
class LiveQueryRun {
  private iterator: AsyncIterator<ExecutionResult> | undefined;
  /** Which start is current: a rerun makes an older one's results go nowhere. */
  private generation = 0;
  private stopped = false;

  constructor(
    private readonly prepared: PreparedOperation,
    private readonly results: OperationResults,
  ) {}

  /**
   * Runs the query as `contextValue`, its results to `results` (the first one awaited, the
   * rest pumped). `refuse`, on the first run: a first result it refuses (PostgreSQL away) is
   * not sent but returned, the run ended, so the transport can refuse the operation instead.
   */
  async start(contextValue: Context, refuse?: Refuse): Promise<Refusal | undefined> {
    const generation = ++this.generation;
    streamLiveQuery(contextValue);
    let result: unknown;
    try {
      result = await this.prepared.execute({ ...this.prepared.args, contextValue });
    } catch (error) {
      if (generation !== this.generation) return;
      this.results.send(errorJson(error));
      this.results.complete();
      return;
    }
    const current = generation === this.generation && !this.stopped;
    if (!isAsyncIterable(result)) {
      // `@live(if: false)`, or refused before it ran: one result.
      if (!current) return;
      const refusal = refuse?.((result as ExecutionResult).errors);
      if (refusal) return refusal;
      this.results.send(toJson(result as ExecutionResult));
      this.results.complete();
      return;
    }
    const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    if (!current) {
      void iterator.return?.();
      if (this.stopped && generation === this.generation) this.results.complete();
      return;
    }
    this.iterator = iterator;
    if (refuse) {
      // A live query whose first result PostgreSQL's absence spoilt would wait for changes
      // to data it never read: refused instead, as its query over HTTP would be.
      let first: IteratorResult<ExecutionResult>;
      try {
        first = await iterator.next();
      } catch (error) {
        if (generation !== this.generation) return;
        this.results.send(errorJson(error));
        this.results.complete();
        return;
      }
      if (first.done) {
        this.results.complete();
        return;
      }
      const refusal = refuse(first.value.errors);
      if (refusal) {
        this.stop();
        return refusal;
      }
      if (generation === this.generation) this.results.send(sharedJson(first.value));
    }
    void this.pump(iterator, generation);
  }

  private async pump(iterator: AsyncIterator<ExecutionResult>, generation: number) {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (generation !== this.generation) return;
        this.results.send(sharedJson(next.value));
      }
    } catch (error) {
      if (generation !== this.generation) return;
      if (!this.stopped) this.results.send(errorJson(error));
    }
    if (generation === this.generation) this.results.complete();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.iterator?.return?.();
  }

  /** Ends this execution without ending the results, and runs the query again as `contextValue`. */
  rerun(contextValue: Context): void {
    if (this.stopped) return;
    const previous = this.iterator;
    this.iterator = undefined;
    void this.start(contextValue);
    void previous?.return?.();
  }
}

export async function startLiveQuery(
  live: LiveCore,
  prepared: PreparedOperation,
  results: OperationResults,
): Promise<OperationStart> {
  const { args } = prepared;
  // The cap on a key's open subscriptions (MAX_OPEN_SUBSCRIPTIONS_PER_KEY) counts it too.
  const slot = live.rateLimits?.openSubscription(args.contextValue.caller, 'query');
  if (slot instanceof GraphQLError) {
    const errors = requestErrors([slot]);
    live.metrics.errors(errors);
    return { kind: 'refused', status: 429, errors };
  }
  const run = new LiveQueryRun(prepared, results);
  const refusal = await run.start(args.contextValue, (errors) =>
    refusedForUnavailable(live, errors, true),
  );
  if (refusal) {
    slot?.release();
    return refusal;
  }
  const { transport } = results;
  live.metrics.liveQueryStarted(transport);
  results.whenEnded(() => {
    live.metrics.liveQueryEnded(transport);
    slot?.release();
  });
  const stop = () => run.stop();
  live.streamGuard.guard({ args, results, stop, rerun: (contextValue) => run.rerun(contextValue) });
  return { kind: 'running', stop, type: 'query' };
}
