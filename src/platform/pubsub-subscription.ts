// One pub/sub subscription over an engine (Redis or in-process). The engines' own iterators
// subscribe lazily, on the first next(); this one subscribes at once and says when it is live,
// so a caller can read state only after that.

/** What a transport offers: graphql-subscriptions' PubSub engine, in both kinds. */
export interface Engine {
  publish(trigger: string, payload: unknown): Promise<void>;
  /** Many publishes at once (a worker's turn announces hundreds); unset: one by one. */
  publishMany?(
    messages: ReadonlyArray<readonly [trigger: string, payload: unknown]>,
  ): Promise<void>;
  subscribe(trigger: string, onMessage: (payload: any) => void): Promise<number>;
  unsubscribe(subId: number): void;
}

/** An open subscription: iterate it; `return()` unsubscribes. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** Settles once the transport delivers to it (Redis acknowledged the SUBSCRIBE); rejects if it cannot. */
  ready: Promise<void>;
}

/** Signals are "look again": a slow consumer only needs the latest ones. */
const MAX_QUEUED = 1_000;

/**
 * How long `ready` waits for the transport. Past it `ready` rejects (Redis is away; callers
 * carry on and their poll covers it) while the subscription still goes live once Redis is
 * back (ioredis reconnects and resubscribes).
 */
export const READY_TIMEOUT_MS = 1_000;
const RESUBSCRIBE_DELAY_MS = 250;

export function subscription<T>(
  engine: Engine,
  channel: string,
  whenConnected: () => Promise<void>,
): Subscription<T> {
  const queue: T[] = [];
  const waiting: Array<(result: IteratorResult<T>) => void> = [];
  let done = false;
  const onMessage = (payload: T) => {
    if (done) return;
    const waiter = waiting.shift();
    if (waiter) waiter({ value: payload, done: false });
    else if (queue.push(payload) > MAX_QUEUED) queue.shift();
  };
  const subscribed = subscribeUntilDone(engine, channel, onMessage, whenConnected, () => done);
  const finish = async () => {
    if (done) return;
    done = true;
    for (const waiter of waiting.splice(0)) waiter({ value: undefined, done: true });
    // Not awaited: with Redis away the SUBSCRIBE may only land later; unsubscribe then.
    subscribed.then(
      (id) => engine.unsubscribe(id),
      () => {},
    );
  };
  return {
    ready: readyWithin(subscribed, READY_TIMEOUT_MS),
    next: () =>
      queue.length
        ? Promise.resolve({ value: queue.shift()!, done: false })
        : done
          ? Promise.resolve({ value: undefined, done: true })
          : new Promise((resolve) => waiting.push(resolve)),
    return: async () => {
      await finish();
      return { value: undefined, done: true };
    },
    throw: async (error: unknown) => {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A SUBSCRIBE cut off by a lost connection fails for good; try again once connected, so a
 * subscription made while Redis is away still goes live when it comes back.
 */
function subscribeUntilDone<T>(
  engine: Engine,
  channel: string,
  onMessage: (payload: T) => void,
  whenConnected: () => Promise<void>,
  isDone: () => boolean,
): Promise<number> {
  const subscribed = (async () => {
    for (;;) {
      if (isDone()) throw new Error('unsubscribed');
      try {
        await whenConnected();
        return await engine.subscribe(channel, onMessage);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
      }
    }
  })();
  subscribed.catch(() => {});
  return subscribed;
}

function readyWithin(subscribed: Promise<number>, timeoutMs: number): Promise<void> {
  const ready = Promise.race([
    subscribed.then(() => undefined),
    new Promise<void>((_, reject) =>
      setTimeout(() => reject(new Error('pub/sub is not reachable yet')), timeoutMs).unref(),
    ),
  ]);
  ready.catch(() => {}); // callers that never look at `ready` must not see an unhandled rejection
  return ready;
}
