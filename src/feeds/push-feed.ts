// The one shape of every subscription source: a feed consumed either as the async iterator
// graphql-js expects of a `subscribe` resolver, or by an observer called synchronously per
// event. The transports observe it: for one event fanned out to thousands of subscribers, an
// async iterator per subscriber costs several promise turns each; a callback costs a call.
// Hand-written: Repeater (yoga's) refuses more than 1,024 unconsumed pushes, and a replay from
// the log can be longer.

export interface FeedObserver<T> {
  next(value: T): void;
  complete(): void;
  error(error: unknown): void;
}

export const observeFeed = Symbol('observeFeed');

export interface PushFeed<T> extends AsyncIterableIterator<T> {
  /** Starts the feed for this observer; returns the function that stops it. Once per feed. */
  [observeFeed](observer: FeedObserver<T>): () => void;
}

export function isPushFeed<T>(value: unknown): value is PushFeed<T> {
  return typeof value === 'object' && value !== null && observeFeed in value;
}

/** What a feed's producer is given: start producing for an observer, return how to stop. */
export type FeedStart<T> = (observer: FeedObserver<T>) => () => void;

/**
 * A feed from `start`, which runs on the first next() or on observation, never twice.
 * The iterator side queues between the observer and next().
 */
export function pushFeed<T>(start: FeedStart<T>): PushFeed<T> {
  return new QueuedFeed(start);
}

class QueuedFeed<T> implements PushFeed<T> {
  private started = false;
  private stopFeed: (() => void) | undefined;
  private readonly queue: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private waiting:
    { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;

  constructor(private readonly start: FeedStart<T>) {}

  [observeFeed](observer: FeedObserver<T>): () => void {
    if (this.started) throw new Error('A feed has one consumer');
    this.started = true;
    return this.start(observer);
  }

  next(): Promise<IteratorResult<T>> {
    this.stopFeed ??= this[observeFeed]({
      next: (value) => this.push(value),
      complete: () => this.end(),
      error: (error) => this.fail(error),
    });
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.ended = true;
    this.queue.length = 0;
    this.stopFeed?.();
    this.settle();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private push(value: T): void {
    if (this.ended) return;
    this.queue.push(value);
    this.settle();
  }

  private end(): void {
    this.ended = true;
    this.settle();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.ended = true;
    this.settle();
  }

  private settle(): void {
    if (!this.waiting) return;
    const { resolve, reject } = this.waiting;
    if (this.queue.length) resolve({ value: this.queue.shift()!, done: false });
    else if (this.failure) {
      reject(this.failure.error);
      this.failure = undefined;
    } else if (this.ended) resolve({ value: undefined, done: true });
    else return;
    this.waiting = undefined;
  }
}

/**
 * A feed over an async iterator (a generator that computes its events, as a streamed query
 * does): each value to the observer as it comes; stopping returns the iterator.
 */
export function iteratorFeed<T>(source: AsyncIterator<T>): PushFeed<T> {
  return pushFeed((observer) => {
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          const step = await source.next();
          if (stopped) return;
          if (step.done) return observer.complete();
          observer.next(step.value);
        }
      } catch (error) {
        if (!stopped) observer.error(error);
      }
    })();
    return () => {
      stopped = true;
      void source.return?.();
    };
  });
}

/** The same feed with each value passed through `map` (per feed: `map` may keep state). */
export function mapFeed<T, U>(source: PushFeed<T>, map: (value: T) => U): PushFeed<U> {
  return pushFeed((observer) =>
    source[observeFeed]({
      next: (value) => observer.next(map(value)),
      complete: () => observer.complete(),
      error: (error) => observer.error(error),
    }),
  );
}
