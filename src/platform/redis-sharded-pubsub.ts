// Pub/sub on a Redis Cluster with sharded channels (Redis 7: SSUBSCRIBE, SPUBLISH): a
// channel lives on the shard that owns its slot, so a message travels to that shard's master
// and replicas only, where PUBLISH on a cluster is broadcast to every node over the cluster
// bus. ioredis's sharded subscribers keep one connection per master and, after a failover,
// resubscribe each channel on the shard's new master. graphql-redis-subscriptions knows only
// SUBSCRIBE, hence this small engine of the same shape.
import type { Cluster } from 'ioredis';
import type { Engine } from './pubsub-subscription.js';

type Listener = (payload: unknown) => void;

export function shardedEngine(publisher: Cluster, subscriber: Cluster): Engine {
  const listeners = new Map<string, Map<number, Listener>>();
  const channelOf = new Map<number, string>();
  /** Channels the shard acknowledged (SSUBSCRIBE answered, no SUNSUBSCRIBE since). */
  const active = new Set<string>();
  /** SSUBSCRIBEs in flight: another listener of the channel waits for the same one. */
  const subscribing = new Map<string, Promise<unknown>>();
  let lastId = 0;

  const ssubscribe = (channel: string): Promise<unknown> => {
    const sent = subscriber.ssubscribe(channel).then(() => {
      if (listeners.has(channel) && subscribing.get(channel) === sent) active.add(channel);
    });
    subscribing.set(channel, sent);
    const settle = () => {
      if (subscribing.get(channel) === sent) subscribing.delete(channel);
    };
    sent.then(settle, settle);
    return sent;
  };

  subscriber.on('smessage', (channel: string, message: string) => {
    const forChannel = listeners.get(channel);
    if (!forChannel) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      payload = message;
    }
    for (const listener of forChannel.values()) listener(payload);
  });

  const remove = (id: number): string | undefined => {
    const channel = channelOf.get(id);
    if (channel === undefined) return undefined;
    channelOf.delete(id);
    const forChannel = listeners.get(channel)!;
    forChannel.delete(id);
    if (forChannel.size > 0) return undefined;
    listeners.delete(channel);
    return channel;
  };

  return {
    async publish(channel, payload) {
      await publisher.spublish(channel, JSON.stringify(payload));
    },
    async subscribe(channel, onMessage) {
      const id = ++lastId;
      let forChannel = listeners.get(channel);
      if (!forChannel) listeners.set(channel, (forChannel = new Map()));
      forChannel.set(id, onMessage);
      channelOf.set(id, channel);
      if (!active.has(channel)) {
        try {
          await (subscribing.get(channel) ?? ssubscribe(channel));
        } catch (error) {
          remove(id);
          throw error;
        }
      }
      return id;
    },
    unsubscribe(id) {
      const channel = remove(id);
      // The last listener gone: the shard stops sending (the connection may be gone already).
      // A SSUBSCRIBE still in flight is answered before this (one connection, in order): a
      // later listener of the channel sends its own.
      if (channel === undefined) return;
      active.delete(channel);
      subscribing.delete(channel);
      subscriber.sunsubscribe(channel).catch(() => {});
    },
  };
}
