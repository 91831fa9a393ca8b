// The Redis engine behind createRedisPubSub: a publisher and a subscriber connection through
// graphql-redis-subscriptions (PUBLISH, SUBSCRIBE: one node, or Sentinel's primary), or
// sharded channels on a cluster (redis-sharded-pubsub.ts), with what they lack while Redis is
// away (held publishes, caught rejections, a SUBSCRIBE only once the connection is ready).
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { ReplyError, type Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { READY_TIMEOUT_MS, type Engine } from './pubsub-subscription.js';
import {
  createRedisConnection,
  isCluster,
  logConnectionErrors,
  type RedisConnection,
  type RedisSource,
} from './redis.js';
import { shardedEngine } from './redis-sharded-pubsub.js';

/** Publishes held while Redis is away (the oldest are dropped past it). */
const MAX_HELD = 1_000;

export interface RedisEngine {
  engine: Engine;
  /** Resolves once the subscriber connection is ready. */
  whenConnected(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function connectRedisEngine(source: RedisSource, log: Logger): RedisEngine {
  const { publisher, subscriber } = redisConnections(source);
  for (const connection of [publisher, subscriber]) logConnectionErrors(connection, log);
  const { engine: inner, close } =
    isCluster(publisher) && isCluster(subscriber)
      ? {
          engine: shardedEngine(publisher, subscriber),
          close: async () => {
            await Promise.all([publisher.quit(), subscriber.quit()]);
          },
        }
      : plainEngine(publisher, subscriber);
  const engine: Engine = { ...inner, ...holdingPublishes(publisher, inner, log) };
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
      await close().catch(() => undefined);
    },
  };
}

/** PUBLISH and SUBSCRIBE through graphql-redis-subscriptions. */
function plainEngine(
  publisher: RedisConnection,
  subscriber: RedisConnection,
): { engine: Engine; close(): Promise<void> } {
  catchUnsubscribeRejections(subscriber);
  const pubsub = new RedisPubSub({ publisher, subscriber });
  const engine: Engine = {
    publish: (trigger, payload) => pubsub.publish(trigger, payload),
    publishMany: publishingMany(publisher as Redis, (trigger, payload) =>
      pubsub.publish(trigger, payload),
    ),
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
  return { engine, close: () => pubsub.close().then(() => undefined) };
}

function redisConnections(source: RedisSource): {
  publisher: RedisConnection;
  subscriber: RedisConnection;
} {
  // No offline queue: while Redis is away a publish must not wait behind reconnects (held
  // below instead, bounded). No auto-pipelining: a worker's publishes already leave a turn at a
  // time (publishMany), and ioredis builds a Pipeline object per tick for it, whose garbage
  // outlived young-generation collections: with it off, a worker's scavenges at 500 tasks/s
  // stopped it 4–8 ms instead of 8–14, promoting half as much or less (bench/README.md, "Queue").
  const publisher = createRedisConnection(source, {
    connectionName: 'agent-growth:publisher',
    offlineQueue: false,
  });
  const subscriber = createRedisConnection(source, {
    connectionName: 'agent-growth:subscriber',
    offlineQueue: true,
    subscriber: true,
  });
  return { publisher, subscriber };
}

/** Resolves once the connection is ready, or after `timeoutMs` (the caller's command then says). */
function ready(connection: RedisConnection, timeoutMs: number): Promise<void> {
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
function catchUnsubscribeRejections(subscriber: RedisConnection): void {
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
function holdingPublishes(
  publisher: RedisConnection,
  inner: Engine,
  log: Logger,
): Pick<Engine, 'publish' | 'publishMany'> {
  const held: Array<readonly [string, unknown]> = [];
  const hold = (message: readonly [string, unknown]) => {
    if (held.push(message) > MAX_HELD) held.shift();
  };
  publisher.on('ready', () => {
    for (const [trigger, payload] of held.splice(0)) {
      inner
        .publish(trigger, payload)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'held publish failed'));
    }
  });
  const publishMany = inner.publishMany;
  return {
    publish(trigger, payload) {
      if (publisher.status === 'ready') return inner.publish(trigger, payload);
      hold([trigger, payload]);
      return Promise.resolve();
    },
    publishMany: publishMany
      ? (messages) => {
          if (publisher.status === 'ready') return publishMany(messages);
          for (const message of messages) hold(message);
          return Promise.resolve();
        }
      : undefined,
  };
}

/** PUBLISHes per script call, at most: a call holds Redis for its length. */
const SCRIPT_BATCH = 500;
const PUBLISH_EACH = `for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end`;

/**
 * Many PUBLISHes as one command (a script, by its SHA once Redis knows it): a command per
 * message was about a tenth of a busy worker's garbage (ioredis makes an object, a promise
 * and an argument list per command). The messages are those graphql-redis-subscriptions
 * would send (JSON). Where scripts are refused (an ACL), `publishOne` each.
 */
function publishingMany(
  publisher: Redis,
  publishOne: Engine['publish'],
): NonNullable<Engine['publishMany']> {
  publisher.defineCommand('publishEach', { numberOfKeys: 0, lua: PUBLISH_EACH });
  const publishEach = (args: string[]) =>
    (publisher as Redis & { publishEach(...args: string[]): Promise<unknown> }).publishEach(
      ...args,
    );
  const oneByOne = (messages: ReadonlyArray<readonly [string, unknown]>) =>
    Promise.all(messages.map(([trigger, payload]) => publishOne(trigger, payload)));
  let scripts = true;
  return async (messages) => {
    if (!scripts) {
      await oneByOne(messages);
      return;
    }
    const sent: Array<Promise<unknown>> = [];
    for (let from = 0; from < messages.length; from += SCRIPT_BATCH) {
      const args: string[] = [];
      for (const [trigger, payload] of messages.slice(from, from + SCRIPT_BATCH))
        args.push(trigger, JSON.stringify(payload));
      sent.push(publishEach(args));
    }
    try {
      await Promise.all(sent);
    } catch (error) {
      if (!(error instanceof ReplyError) || !/NOPERM|unknown command/i.test(String(error)))
        throw error;
      scripts = false;
      await oneByOne(messages);
    }
  };
}
