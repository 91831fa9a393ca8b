// The same pub/sub behaviour over Redis (two connections each, as two processes have)
// and in-process.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInProcessPubSub, createRedisPubSub, type PubSub } from '../src/pubsub.js';
import { redisAvailable, useHarness } from './utils/harness.js';

const h = useHarness();

async function nextValue<T>(iterator: AsyncIterableIterator<T>): Promise<T> {
  const result = await iterator.next();
  return result.value as T;
}

/** Let a Redis SUBSCRIBE reach the server before publishing (pub/sub is at-most-once). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

const variants: Array<{ name: string; enabled: boolean; pair: () => [PubSub, PubSub] }> = [
  {
    name: 'in-process',
    enabled: true,
    pair: () => {
      const one = createInProcessPubSub(h.pubsubPrefix);
      return [one, one];
    },
  },
  {
    name: 'redis',
    enabled: redisAvailable,
    pair: () => [createRedisPubSub(h.redisUrl!, h.pubsubPrefix), createRedisPubSub(h.redisUrl!, h.pubsubPrefix)],
  },
];

for (const variant of variants) {
  describe.skipIf(!variant.enabled)(`pub/sub (${variant.name})`, () => {
    it('delivers a publish to a subscriber of the same topic and key, as JSON', async () => {
      const [publisher, subscriber] = variant.pair();
      h.onCleanup(() => publisher.close());
      h.onCleanup(() => subscriber.close());
      expect(await publisher.ping()).toBe(true);
      const agentId = randomUUID();
      const events = subscriber.subscribe('agentUpdated', agentId);
      const received = nextValue(events);
      await settle();
      await publisher.publish('agentUpdated', agentId, { agentId, deleted: false });
      expect(await received).toEqual({ agentId, deleted: false });
      await events.return?.();
    });

    it('keeps keys and prefixes apart', async () => {
      const [publisher, subscriber] = variant.pair();
      h.onCleanup(() => publisher.close());
      h.onCleanup(() => subscriber.close());
      const wanted = randomUUID();
      const events = subscriber.subscribe('agentUpdated', wanted);
      const received = nextValue(events);
      await settle();
      const other = variant.name === 'redis' ? createRedisPubSub(h.redisUrl!, `${h.pubsubPrefix}other:`) : createInProcessPubSub('other:');
      h.onCleanup(() => other.close());
      await other.publish('agentUpdated', wanted, { agentId: wanted, deleted: true });
      await publisher.publish('agentUpdated', randomUUID(), { agentId: 'someone else', deleted: true });
      await publisher.publish('agentUpdated', wanted, { agentId: wanted, deleted: false });
      expect(await received).toEqual({ agentId: wanted, deleted: false });
      await events.return?.();
    });
  });
}
