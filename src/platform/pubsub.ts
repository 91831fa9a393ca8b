// Event fan-out between processes: Redis pub/sub (graphql-redis-subscriptions) when
// REDIS_URL is set, in-process otherwise. Redis carries signals only, never state:
// payloads are small JSON (ids, sequence numbers, at most a copy of a committed task
// event) and PostgreSQL stays the source, so an event lost while Redis is down loses no data.
import { PubSub as InProcessPubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { logger } from './logger.js';
import { logConnectionErrors } from './redis.js';
import type { TaskStatus } from '../generated/prisma/enums.js';

/**
 * A task_events row as PostgreSQL's to_jsonb gives it (`at` as text), without its id: the
 * copy of a committed event that a notification may carry (see the task feed).
 */
export interface TaskEventJson {
  taskId: string;
  sequence: number;
  status: TaskStatus;
  progressPercent: number;
  currentStep: string | null;
  message: string | null;
  at: string;
}

/** Topic → payload. Channels are `<prefix><topic>:<key>`. */
export interface PubSubTopics {
  /** An agent's stored fields or coverage changed. */
  agentUpdated: { agentId: string; deleted: boolean };
  /**
   * A task's event log grew up to `sequence`. `event`, when present, is a copy of that
   * committed event; subscribers read the log for anything else (see src/feeds/task-feed.ts).
   */
  taskEvents: { taskId: string; sequence: number; event?: TaskEventJson };
  /** Key 'queue': a task became runnable; idle workers try to claim. */
  taskReady: { type: string };
  /** Key 'workers': cancellation was requested for a running task. */
  taskCancel: { taskId: string };
  /** A topic's generation state changed (subscribers read the topic row). */
  topicUpdated: { topicId: string };
  /** Key 'all': an API key was revoked; every API process drops it from its auth cache. */
  apiKeyRevoked: { apiKeyId: string };
}
export type Topic = keyof PubSubTopics;

/** An open subscription: iterate it; `return()` unsubscribes. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** Settles once the transport delivers to it (Redis acknowledged the SUBSCRIBE); rejects if it cannot. */
  ready: Promise<void>;
}

export interface PubSub {
  readonly kind: 'redis' | 'in-process';
  /** Never throws: a failed publish is logged (subscribers fall back to the database). */
  publish<T extends Topic>(topic: T, key: string, payload: PubSubTopics[T]): Promise<void>;
  subscribe<T extends Topic>(topic: T, key: string): Subscription<PubSubTopics[T]>;
  /** For /ready: is the transport reachable? */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

interface Engine {
  publish(trigger: string, payload: unknown): Promise<void>;
  subscribe(trigger: string, onMessage: (payload: any) => void): Promise<number>;
  unsubscribe(subId: number): void;
}

/** Signals are "look again": a slow consumer only needs the latest ones. */
const MAX_QUEUED = 1_000;
/** Publishes held while Redis is away (the oldest are dropped past it). */
const MAX_HELD = 1_000;

/**
 * How long `ready` waits for the transport. Past it `ready` rejects (Redis is away; callers
 * carry on and their poll covers it) while the subscription still goes live once Redis is
 * back (ioredis reconnects and resubscribes).
 */
const READY_TIMEOUT_MS = 1_000;
const RESUBSCRIBE_DELAY_MS = 250;

/**
 * The engines' own iterators subscribe lazily, on the first next(); this one subscribes
 * at once and says when it is live, so a caller can read state only after that.
 */
function subscription<T>(
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
  // A SUBSCRIBE cut off by a lost connection fails for good; try again once connected, so a
  // subscription made while Redis is away still goes live when it comes back.
  const subscribed = (async () => {
    for (;;) {
      if (done) throw new Error('unsubscribed');
      try {
        await whenConnected();
        return await engine.subscribe(channel, onMessage);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
      }
    }
  })();
  subscribed.catch(() => {});
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
  const ready = Promise.race([
    subscribed.then(() => undefined),
    new Promise<void>((_, reject) =>
      setTimeout(() => reject(new Error('pub/sub is not reachable yet')), READY_TIMEOUT_MS).unref(),
    ),
  ]);
  ready.catch(() => {}); // callers that never look at `ready` must not see an unhandled rejection
  return {
    ready,
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

function wrap(
  kind: PubSub['kind'],
  engine: Engine,
  prefix: string,
  extra: Pick<PubSub, 'ping' | 'close'>,
  whenConnected: () => Promise<void> = async () => {},
): PubSub {
  const log = logger.child({ module: 'pubsub', kind });
  return {
    kind,
    // Fire and forget: a signal never holds up the request or task that sends it (with Redis
    // away, it is held or dropped by the engine at once; see createRedisPubSub).
    async publish(topic, key, payload) {
      engine.publish(`${prefix}${topic}:${key}`, payload).catch((err: unknown) => {
        log.warn(
          { err, topic, key },
          'publish failed; subscribers will catch up from the database',
        );
      });
    },
    subscribe(topic, key) {
      return subscription(engine, `${prefix}${topic}:${key}`, whenConnected);
    },
    ...extra,
  };
}

export function createInProcessPubSub(prefix: string): PubSub {
  const inProcess = new InProcessPubSub();
  const engine: Engine = {
    // A JSON round trip, so that in-process subscribers see what Redis would deliver.
    publish: (trigger, payload) => inProcess.publish(trigger, JSON.parse(JSON.stringify(payload))),
    subscribe: (trigger, onMessage) => inProcess.subscribe(trigger, onMessage),
    unsubscribe: (id) => inProcess.unsubscribe(id),
  };
  return wrap('in-process', engine, prefix, { ping: async () => true, close: async () => {} });
}

/** Resolves once the connection is ready, or after `timeoutMs` (the caller's command then says). */
function ready(connection: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    }
    connection.once('ready', done);
  });
}

/**
 * graphql-redis-subscriptions drops the promises of its UNSUBSCRIBE and PUNSUBSCRIBE: while
 * Redis is away, or the connection is closing, they reject with nobody listening (an
 * unhandled rejection). Ours catch them: the channel is gone with the connection anyway.
 */
function catchUnsubscribeRejections(subscriber: Redis): void {
  for (const command of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[command].bind(subscriber) as (
      ...channels: string[]
    ) => Promise<unknown>;
    (subscriber as unknown as Record<typeof command, (...channels: string[]) => Promise<unknown>>)[
      command
    ] = (...channels) => {
      const sent = send(...channels);
      sent.catch(() => {});
      return sent;
    };
  }
}

/**
 * Publishes while the publisher is not connected (starting, or Redis away) are held: the
 * latest MAX_HELD, sent once it is back. Signals only say "look again", so older ones may go.
 */
function holdingPublish(
  publisher: Redis,
  engine: RedisPubSub,
  log: typeof logger,
): Engine['publish'] {
  const held: Array<[string, unknown]> = [];
  publisher.on('ready', () => {
    for (const [trigger, payload] of held.splice(0)) {
      engine
        .publish(trigger, payload)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'held publish failed'));
    }
  });
  return (trigger, payload) => {
    if (publisher.status === 'ready') return engine.publish(trigger, payload);
    if (held.push([trigger, payload]) > MAX_HELD) held.shift();
    return Promise.resolve();
  };
}

export function createRedisPubSub(redisUrl: string, prefix: string): PubSub {
  const options = {
    // Commands fail fast while Redis is away instead of queueing without bound.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  };
  // Publishes made in the same tick leave in one write (a busy worker publishes two per task).
  // No offline queue: while Redis is away a publish must not wait behind reconnects (held
  // below instead, bounded).
  const publisher = new Redis(redisUrl, {
    ...options,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    connectionName: 'agent-growth:publisher',
  });
  const subscriber = new Redis(redisUrl, { ...options, connectionName: 'agent-growth:subscriber' });
  const log = logger.child({ module: 'pubsub', kind: 'redis' });
  for (const connection of [publisher, subscriber]) logConnectionErrors(connection, log);
  catchUnsubscribeRejections(subscriber);
  const engine = new RedisPubSub({ publisher, subscriber });
  // A SUBSCRIBE sent before ioredis's ready check finishes can leave the connection
  // deaf to its messages (measured: status 'connect' → no 'message' events); wait for it.
  const whenConnected = () =>
    subscriber.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve) => subscriber.once('ready', () => resolve()));
  const redisEngine: Engine = {
    publish: holdingPublish(publisher, engine, log),
    subscribe: (trigger, onMessage) => {
      const subscribed = engine.subscribe(trigger, onMessage);
      // graphql-redis-subscriptions also keeps a second promise for a SUBSCRIBE in flight and
      // rejects it with nobody listening when that SUBSCRIBE fails (Redis away): an unhandled
      // rejection. `subscribed` itself is handled by our caller.
      (
        engine as unknown as { subsPendingRefsMap: Map<string, { pending: Promise<unknown> }> }
      ).subsPendingRefsMap
        .get(trigger)
        ?.pending.catch(() => {});
      return subscribed;
    },
    unsubscribe: (id) => engine.unsubscribe(id),
  };
  return wrap(
    'redis',
    redisEngine,
    prefix,
    {
      ping: async () => {
        try {
          // Without an offline queue a PING before the connection is up fails at once: wait a little.
          if (publisher.status !== 'ready') await ready(publisher, READY_TIMEOUT_MS);
          return (await publisher.ping()) === 'PONG';
        } catch {
          return false;
        }
      },
      close: async () => {
        await engine.close().catch(() => undefined);
      },
    },
    whenConnected,
  );
}

export function createPubSub(redisUrl: string | undefined, prefix: string): PubSub {
  return redisUrl ? createRedisPubSub(redisUrl, prefix) : createInProcessPubSub(prefix);
}
