// Event fan-out between processes: Redis pub/sub (graphql-redis-subscriptions) when
// REDIS_URL is set, in-process otherwise. Redis carries signals only, never state:
// payloads are small JSON (ids, sequence numbers) and subscribers read the state from
// PostgreSQL, so an event lost while Redis is down loses no data.
import { PubSub as InProcessPubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { logger } from './logger.js';

/** Topic → payload. Channels are `<prefix><topic>:<key>`. */
export interface PubSubTopics {
  /** An agent's stored fields or coverage changed. */
  agentUpdated: { agentId: string; deleted: boolean };
  /** A task's event log grew up to `sequence` (subscribers read the events from PostgreSQL). */
  taskEvents: { taskId: string; sequence: number };
  /** Key 'queue': a task became runnable; idle workers try to claim. */
  taskReady: { type: string };
  /** Key 'workers': cancellation was requested for a running task. */
  taskCancel: { taskId: string };
}
export type Topic = keyof PubSubTopics;

export interface PubSub {
  readonly kind: 'redis' | 'in-process';
  /** Never throws: a failed publish is logged (subscribers fall back to the database). */
  publish<T extends Topic>(topic: T, key: string, payload: PubSubTopics[T]): Promise<void>;
  subscribe<T extends Topic>(topic: T, key: string): AsyncIterableIterator<PubSubTopics[T]>;
  /** For /ready: is the transport reachable? */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

interface Engine {
  publish(trigger: string, payload: unknown): Promise<void>;
  asyncIterableIterator<T>(triggers: string | string[]): AsyncIterableIterator<T>;
}

function wrap(kind: PubSub['kind'], engine: Engine, prefix: string, extra: Pick<PubSub, 'ping' | 'close'>): PubSub {
  const log = logger.child({ module: 'pubsub', kind });
  return {
    kind,
    async publish(topic, key, payload) {
      try {
        // A JSON round trip in both modes, so in-process subscribers see what Redis would deliver.
        await engine.publish(`${prefix}${topic}:${key}`, JSON.parse(JSON.stringify(payload)));
      } catch (err) {
        log.warn({ err, topic, key }, 'publish failed; subscribers will catch up from the database');
      }
    },
    subscribe(topic, key) {
      return engine.asyncIterableIterator(`${prefix}${topic}:${key}`);
    },
    ...extra,
  };
}

export function createInProcessPubSub(prefix: string): PubSub {
  const engine = new InProcessPubSub();
  return wrap('in-process', engine as Engine, prefix, { ping: async () => true, close: async () => {} });
}

export function createRedisPubSub(redisUrl: string, prefix: string): PubSub {
  const options = {
    // Commands fail fast while Redis is away instead of queueing without bound.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  };
  const publisher = new Redis(redisUrl, { ...options, connectionName: 'agent-growth:publisher' });
  const subscriber = new Redis(redisUrl, { ...options, connectionName: 'agent-growth:subscriber' });
  const log = logger.child({ module: 'pubsub', kind: 'redis' });
  for (const connection of [publisher, subscriber]) {
    connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  }
  const engine = new RedisPubSub({ publisher, subscriber });
  return wrap('redis', engine as unknown as Engine, prefix, {
    ping: async () => {
      try {
        return (await publisher.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    close: async () => {
      await engine.close().catch(() => undefined);
    },
  });
}

export function createPubSub(redisUrl: string | undefined, prefix: string): PubSub {
  return redisUrl ? createRedisPubSub(redisUrl, prefix) : createInProcessPubSub(prefix);
}
