// Event fan-out between processes: Redis pub/sub (sharded channels on a cluster) when Redis
// is configured, in-process otherwise. Redis carries signals only, never state:
// payloads are small JSON (ids, sequence numbers, at most a copy of a committed task
// event) and PostgreSQL stays the source, so an event lost while Redis is down loses no data.
import { PubSub as InProcessPubSub } from 'graphql-subscriptions';
import { logger } from './logger.js';
import { subscription, type Engine, type Subscription } from './pubsub-subscription.js';
import { connectRedisEngine } from './redis-pubsub-engine.js';
import type { RedisSource } from './redis.js';
import type { TaskStatus } from '../generated/prisma/enums.js';

/**
 * A task_events row as PostgreSQL's to_jsonb gives it (`at` as text): the
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
/** A cancellation pushed to workers: the task, and its log position once asked (if known). */
export interface PushedCancellation {
  taskId: string;
  sequence?: number;
}

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
  /**
   * Key 'workers': cancellation was requested for running tasks; `sequence`, a task's log
   * position once asked (a worker holding a later run of it, retried since, is not concerned).
   * Tasks cancelled together come in one message, applied in one pass: a slot that one's stop
   * frees must not start another of them still waiting in the worker's local queue. (One task
   * alone is what processes of the previous release send; workers still read it.)
   */
  taskCancel: { tasks: PushedCancellation[] } | PushedCancellation;
  /** A workflow's event log grew up to `sequence` (subscribers read the log). */
  workflowEvents: { workflowId: string; sequence: number };
  /** A topic's generation state changed (subscribers read the topic row). */
  topicUpdated: { topicId: string };
  /** Key 'all': a key was revoked, or a user's memberships changed; API processes drop it (or the user's keys). */
  apiKeyRevoked: { apiKeyId: string } | { userId: string };
  /**
   * Key: a presence channel (`TOPIC:<id>`): someone joined or left it, or expired; API
   * processes following it read its members again (src/services/presence).
   */
  presenceChanged: Record<string, never>;
  /** Key 'all': an LLM deployment cools down until `until` (epoch ms) in every process. */
  llmCooldown: { deploymentId: string; until: number };
  /** Key 'all': provider keys, deployments, routes or budgets changed; routers read them again. */
  llmConfigChanged: { teamId: string | null };
  /**
   * Key 'all': what committed changes touched, as live queries name what they read
   * (`Agent:<global id>`, `Agent`, `Query.agents`); every API process's live query store runs
   * again the queries that read one of them (src/http/live-query).
   */
  liveQueryInvalidated: { identifiers: string[] };
}
export type Topic = keyof PubSubTopics;

export interface PubSub {
  readonly kind: 'redis' | 'in-process';
  /** Never throws: a failed publish is logged (subscribers fall back to the database). */
  publish<T extends Topic>(topic: T, key: string, payload: PubSubTopics[T]): Promise<void>;
  /** Publishes each message on its key, as publish does, in as few round trips as the transport allows. */
  publishMany<T extends Topic>(
    topic: T,
    messages: ReadonlyArray<readonly [key: string, payload: PubSubTopics[T]]>,
  ): Promise<void>;
  subscribe<T extends Topic>(topic: T, key: string): Subscription<PubSubTopics[T]>;
  /** For /ready: is the transport reachable? */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function wrap(
  kind: PubSub['kind'],
  engine: Engine,
  prefix: string,
  extra: Pick<PubSub, 'ping' | 'close'>,
  whenConnected: () => Promise<void> = async () => {},
): PubSub {
  const log = logger.child({ module: 'pubsub', kind });
  const channel = (topic: Topic, key: string) => `${prefix}${topic}:${key}`;
  return {
    kind,
    // Fire and forget: a signal never holds up the request or task that sends it (with Redis
    // away, it is held or dropped by the engine at once; see createRedisPubSub).
    async publish(topic, key, payload) {
      engine.publish(channel(topic, key), payload).catch((err: unknown) => {
        log.warn(
          { err, topic, key },
          'publish failed; subscribers will catch up from the database',
        );
      });
    },
    async publishMany(topic, messages) {
      if (messages.length === 0) return;
      const triggers = messages.map(([key, payload]) => [channel(topic, key), payload] as const);
      const sent = engine.publishMany
        ? engine.publishMany(triggers)
        : Promise.all(triggers.map(([trigger, payload]) => engine.publish(trigger, payload)));
      sent.catch((err: unknown) => {
        log.warn(
          { err, topic, messages: messages.length },
          'publish failed; subscribers will catch up from the database',
        );
      });
    },
    subscribe(topic, key) {
      return subscription(engine, channel(topic, key), whenConnected);
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

export function createRedisPubSub(redis: RedisSource, prefix: string): PubSub {
  const engine = connectRedisEngine(redis, logger.child({ module: 'pubsub', kind: 'redis' }));
  const { whenConnected, ping, close } = engine;
  return wrap('redis', engine.engine, prefix, { ping, close }, whenConnected);
}

/** Redis when it is configured (`redis` unset or empty: in this process only). */
export function createPubSub(redis: RedisSource | null | undefined, prefix: string): PubSub {
  return redis ? createRedisPubSub(redis, prefix) : createInProcessPubSub(prefix);
}
