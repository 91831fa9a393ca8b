// A subscription source that can be consumed two ways: as the async iterator graphql-js
// expects of a `subscribe` resolver, or by an observer called synchronously per event.
// The SSE transport observes it: for one event fanned out to thousands of subscribers,
// an async iterator per subscriber costs several promise turns each (the bulk of the
// fan-out's CPU); a callback costs a call. Hand-written: Repeater (yoga's) refuses more
// than 1,024 unconsumed pushes, and a replay from the log can be longer.

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

/**
 * A feed from `start`, which begins producing for an observer and returns how to stop.
 * `start` runs on the first next() or on observation, never twice.
 */
export function pushFeed<T>(start: (observer: FeedObserver<T>) => () => void): PushFeed<T> {
  let started = false;
  const begin = (observer: FeedObserver<T>) => {
    if (started) throw new Error('A feed has one consumer');
    started = true;
    return start(observer);
  };

  // The iterator side: a queue between the observer and next().
  const queue: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let waiting: { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  let stop: (() => void) | undefined;
  const settle = () => {
    if (!waiting) return;
    const { resolve, reject } = waiting;
    if (queue.length) resolve({ value: queue.shift()!, done: false });
    else if (failure) {
      reject(failure.error);
      failure = undefined;
    } else if (ended) resolve({ value: undefined, done: true });
    else return;
    waiting = undefined;
  };
  const finish = () => {
    ended = true;
    queue.length = 0;
    stop?.();
    settle();
    return Promise.resolve<IteratorResult<T>>({ value: undefined, done: true });
  };

  return {
    [observeFeed]: begin,
    next() {
      stop ??= begin({
        next: (value) => {
          if (ended) return;
          queue.push(value);
          settle();
        },
        complete: () => {
          ended = true;
          settle();
        },
        error: (error) => {
          failure ??= { error };
          ended = true;
          settle();
        },
      });
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      if (failure) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return: finish,
    throw(error: unknown) {
      void finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
