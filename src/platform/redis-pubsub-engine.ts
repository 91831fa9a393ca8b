// The Redis engine behind createRedisPubSub: a publisher and a subscriber connection through
// graphql-redis-subscriptions, with what it lacks while Redis is away (held publishes, caught
// rejections, a SUBSCRIBE only once the connection is ready).
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { READY_TIMEOUT_MS, type Engine } from './pubsub-subscription.js';
import { logConnectionErrors } from './redis.js';

/** Publishes held while Redis is away (the oldest are dropped past it). */
const MAX_HELD = 1_000;

export interface RedisEngine {
  engine: Engine;
  /** Resolves once the subscriber connection is ready. */
  whenConnected(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function connectRedisEngine(redisUrl: string, log: Logger): RedisEngine {
  const { publisher, subscriber } = redisConnections(redisUrl);
  for (const connection of [publisher, subscriber]) logConnectionErrors(connection, log);
  catchUnsubscribeRejections(subscriber);
  const pubsub = new RedisPubSub({ publisher, subscriber });
  const engine: Engine = {
    publish: holdingPublish(publisher, pubsub, log),
    subscribe: (trigger, onMessage) => {
      const subscribed = pubsub.subscribe(trigger, onMessage);
      // graphql-redis-subscriptions also keeps a second promise for a SUBSCRIBE in flight and
      // rejects it with nobody listening when that SUBSCRIBE fails (Redis away): an unhandled
      // rejection. `subscribed` itself is handled by our caller.
      (
        pubsub as unknown as { subsPendingRefsMap: Map<string, { pending: Promise<unknown> }> }
      ).subsPendingRefsMap
        .get(trigger)
        ?.pending.catch(() => {});
      return subscribed;
    },
    unsubscribe: (id) => pubsub.unsubscribe(id),
  };
  return {
    engine,
    // A SUBSCRIBE sent before ioredis's ready check finishes can leave the connection
    // deaf to its messages (status 'connect': no 'message' events); wait for it.
    whenConnected: () =>
      subscriber.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => subscriber.once('ready', () => resolve())),
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
      await pubsub.close().catch(() => undefined);
    },
  };
}

function redisConnections(redisUrl: string): { publisher: Redis; subscriber: Redis } {
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
  return { publisher, subscriber };
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
function holdingPublish(publisher: Redis, pubsub: RedisPubSub, log: Logger): Engine['publish'] {
  const held: Array<[string, unknown]> = [];
  publisher.on('ready', () => {
    for (const [trigger, payload] of held.splice(0)) {
      pubsub
        .publish(trigger, payload)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'held publish failed'));
    }
  });
  return (trigger, payload) => {
    if (publisher.status === 'ready') return pubsub.publish(trigger, payload);
    if (held.push([trigger, payload]) > MAX_HELD) held.shift();
    return Promise.resolve();
  };
}
