// The same pub/sub behaviour over Redis (two connections each, as two processes have)
// and in-process.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  createInProcessPubSub,
  createRedisPubSub,
  type PubSub,
} from '../../src/platform/pubsub.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { redisServerAvailable, startPrivateRedis } from '../utils/processes.js';

const h = useHarness();

async function nextValue<T>(iterator: AsyncIterableIterator<T>): Promise<T> {
  const result = await iterator.next();
  return result.value as T;
}

/** A publisher and a subscriber over their own connections, closed after the test. */
function pubSubPair(publisherUrl: string, subscriberUrl = publisherUrl): [PubSub, PubSub] {
  const publisher = createRedisPubSub(publisherUrl, h.pubsubPrefix);
  const subscriber = createRedisPubSub(subscriberUrl, h.pubsubPrefix);
  h.onCleanup(() => publisher.close());
  h.onCleanup(() => subscriber.close());
  return [publisher, subscriber];
}

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
    pair: () => [
      createRedisPubSub(h.redisUrl!, h.pubsubPrefix),
      createRedisPubSub(h.redisUrl!, h.pubsubPrefix),
    ],
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
      // Pub/sub is at-most-once: publish only once the SUBSCRIBE is live.
      await events.ready;
      await publisher.publish('agentUpdated', agentId, { agentId, deleted: false });
      expect(await received).toEqual({ agentId, deleted: false });
      await events.return?.();
      expect(await events.next()).toEqual({ value: undefined, done: true });
    });

    it('keeps keys and prefixes apart', async () => {
      const [publisher, subscriber] = variant.pair();
      h.onCleanup(() => publisher.close());
      h.onCleanup(() => subscriber.close());
      const wanted = randomUUID();
      const events = subscriber.subscribe('agentUpdated', wanted);
      const received = nextValue(events);
      await events.ready;
      const other =
        variant.name === 'redis'
          ? createRedisPubSub(h.redisUrl!, `${h.pubsubPrefix}other:`)
          : createInProcessPubSub('other:');
      h.onCleanup(() => other.close());
      await other.publish('agentUpdated', wanted, { agentId: wanted, deleted: true });
      await publisher.publish('agentUpdated', randomUUID(), {
        agentId: 'someone else',
        deleted: true,
      });
      await publisher.publish('agentUpdated', wanted, { agentId: wanted, deleted: false });
      expect(await received).toEqual({ agentId: wanted, deleted: false });
      await events.return?.();
    });
  });
}

describe.skipIf(!redisServerAvailable)('pub/sub while Redis is away', () => {
  it('gives up waiting for a subscription to go live, and delivers once Redis is back', async () => {
    const redis = await startPrivateRedis(h);
    const [publisher, subscriber] = pubSubPair(redis.url);
    expect(await subscriber.ping()).toBe(true);
    await redis.kill('SIGKILL');
    const agentId = randomUUID();
    const events = subscriber.subscribe('agentUpdated', agentId);
    // Callers must not hang on a subscription that cannot go live (their poll covers it).
    await expect(events.ready).rejects.toThrow();
    await startPrivateRedis(h, redis.port);
    const received = nextValue(events);
    for (let attempt = 0; attempt < 50; attempt++) {
      await publisher.publish('agentUpdated', agentId, { agentId, deleted: false });
      const value = await Promise.race([
        received,
        new Promise((resolve) => setTimeout(() => resolve(undefined), 100)),
      ]);
      if (value) {
        expect(value).toEqual({ agentId, deleted: false });
        return;
      }
    }
    throw new Error('no message after Redis came back');
  });

  it('never holds up a publisher while Redis is away: its publish returns, and a held one is sent once Redis is back', async () => {
    const redis = await startPrivateRedis(h);
    const [publisher, subscriber] = pubSubPair(redis.url);
    const agentId = randomUUID();
    const events = subscriber.subscribe('agentUpdated', agentId);
    await events.ready;
    await redis.kill('SIGKILL');
    // Publishes while Redis is down resolve with Redis still down (nothing waits for it to come back).
    for (let i = 0; i < 20; i++)
      await publisher.publish('agentUpdated', agentId, { agentId, deleted: i === 19 });
    expect(await publisher.ping()).toBe(false);
    const received = nextValue(events);
    await startPrivateRedis(h, redis.port);
    // The subscriber resubscribes and the publisher sends what it held, the latest last.
    let value: unknown;
    for (let attempt = 0; attempt < 50 && !value; attempt++) {
      value = await Promise.race([
        received,
        new Promise((resolve) => setTimeout(() => resolve(undefined), 100)),
      ]);
      if (!value) await publisher.publish('agentUpdated', agentId, { agentId, deleted: true });
    }
    expect(value).toMatchObject({ agentId });
  });
});

/** Reads `count` messages from each key's subscription, in the order they came. */
async function collect(
  subscriber: PubSub,
  keys: string[],
  count: number,
  publish: () => Promise<void>,
): Promise<Map<string, boolean[]>> {
  const subscriptions = keys.map((key) => subscriber.subscribe('agentUpdated', key));
  await Promise.all(subscriptions.map((events) => events.ready));
  const reads = subscriptions.map(async (events) => {
    const values: boolean[] = [];
    while (values.length < count) values.push((await nextValue(events)).deleted);
    await events.return?.();
    return values;
  });
  await publish();
  const received = await Promise.all(reads);
  return new Map(keys.map((key, i) => [key, received[i]!]));
}

/** 3 keys x 250 messages, interleaved: more than one script call's worth (500). */
async function publishedMany(publisher: PubSub, subscriber: PubSub) {
  // Connected first: publishes made while the publisher is still connecting are held and sent
  // one by one once it is (holdingPublishes), which is not what these tests count.
  expect(await publisher.ping()).toBe(true);
  const keys = [randomUUID(), randomUUID(), randomUUID()];
  const messages = Array.from({ length: 750 }, (_, i) => {
    const agentId = keys[i % 3]!;
    return [agentId, { agentId, deleted: i % 2 === 0 }] as const;
  });
  const received = await collect(subscriber, keys, 250, () =>
    publisher.publishMany('agentUpdated', messages),
  );
  for (const [key, values] of received)
    expect(values).toEqual(messages.filter(([k]) => k === key).map(([, m]) => m.deleted));
}

/** A plain connection to a private Redis (its ACL, its stats), closed after the test. */
function adminOf(url: string): Redis {
  const admin = new Redis(url);
  h.onCleanup(async () => void (await admin.quit()));
  return admin;
}

/** How many times each command ran, from Redis' commandstats (a script's own calls counted too). */
async function commandCalls(admin: Redis): Promise<(command: string) => number> {
  const stats = String(await admin.info('commandstats'));
  return (command) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+),`).exec(stats)?.[1] ?? 0);
}

describe.skipIf(!redisServerAvailable)('pub/sub: many messages in one call', () => {
  it('delivers each on its key, in order, across script calls', async () => {
    const redis = await startPrivateRedis(h);
    const [publisher, subscriber] = pubSubPair(redis.url);
    await publishedMany(publisher, subscriber);
    const calls = await commandCalls(adminOf(redis.url));
    // Two script calls (EVAL, then by its SHA), their PUBLISHes inside them: no command per message.
    expect(calls('eval') + calls('evalsha')).toBe(2);
    expect(calls('publish')).toBe(750);
  });

  it('falls back to a PUBLISH each where an ACL refuses scripts, and stays on it', async () => {
    const redis = await startPrivateRedis(h);
    const admin = adminOf(redis.url);
    await admin.call(
      'ACL',
      'SETUSER',
      'publisher',
      'on',
      '>secret',
      '~*',
      '&*',
      '+@all',
      '-@scripting',
    );
    const restricted = redis.url.replace('redis://', 'redis://publisher:secret@');
    const [publisher, subscriber] = pubSubPair(restricted, redis.url);
    await publishedMany(publisher, subscriber);
    await publishedMany(publisher, subscriber);
    // The first call's two script calls refused, none tried again: every message a PUBLISH.
    const refused = (await admin.call('ACL', 'LOG')) as unknown[][];
    const field = (entry: unknown[], name: string) => entry[entry.indexOf(name) + 1];
    expect(refused.map((entry) => String(field(entry, 'object')))).toEqual(
      refused.map(() => expect.stringMatching(/^eval/)),
    );
    expect(refused.reduce((sum, entry) => sum + Number(field(entry, 'count')), 0)).toBe(2);
    expect((await commandCalls(admin))('publish')).toBe(1500);
  });
});
