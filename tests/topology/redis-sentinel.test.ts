// The service on a primary that Sentinel manages (REDIS_SENTINELS, REDIS_SENTINEL_NAME): a
// primary and a replica under three Sentinels, two API processes and a worker. Pub/sub stays
// PUBLISH/SUBSCRIBE on the primary; after the primary is killed (SIGKILL) and the Sentinels
// promote the replica, every subscriber is subscribed again on the new primary by itself, no
// acknowledged task is lost, and rate limits and the cache work on (docs/operations.md,
// "Redis Cluster and Sentinel").
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';
import {
  agentFor,
  enqueueRefresh,
  expectAllCompleted,
  expectSharedCache,
  expectSharedRateLimits,
  expectWholeLog,
  followTask,
  startServiceOnRedis,
  type ServiceOnRedis,
} from '../utils/redis-failover.js';
import {
  onNode,
  redisTopologyMissing,
  startRedisSentinels,
  type SentinelFixture,
} from '../utils/redis-topology.js';

import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

/** At least `count` processes hold a SUBSCRIBE of `channel` on the primary Sentinel names now. */
async function expectSubscribers(sentinels: SentinelFixture, channel: string, count: number) {
  await waitFor(
    async () => {
      const primary = await sentinels.primaryPort();
      const [, subscribers] = (await onNode(primary, (redis) =>
        redis.call('PUBSUB', 'NUMSUB', channel),
      )) as [string, number];
      return subscribers >= count;
    },
    `${count} subscriber(s) of ${channel} on the primary`,
    15_000,
    async () => {
      // Which connections reached the primary: a client that gave up is missing from the list.
      const primary = await sentinels.primaryPort();
      return `primary ${primary}: ${String(await onNode(primary, (redis) => redis.client('LIST')))}`;
    },
  );
}

describe.skipIf(redisTopologyMissing)(
  `on a Sentinel-managed primary${redisTopologyMissing ? ` (skipped: ${redisTopologyMissing})` : ''}`,
  () => {
    let sentinels: SentinelFixture;
    let service: ServiceOnRedis;
    let agentId: string;
    const revoked = () => `${h.pubsubPrefix}apiKeyRevoked:all`;

    beforeAll(async () => {
      sentinels = await startRedisSentinels(h);
      service = await startServiceOnRedis(h, {
        REDIS_SENTINELS: sentinels.env,
        REDIS_SENTINEL_NAME: sentinels.name,
      });
      agentId = await agentFor(h, 'sentinelled');
    }, 120_000);

    it('shares pub/sub, rate limits and the cache between two API processes', async () => {
      const worker = await service.startWorker();
      await expectSubscribers(sentinels, revoked(), 2);
      const taskId = await enqueueRefresh(service, 0, agentId);
      const followed = followTask(h, service, 1, taskId);
      await followed.done;
      expectWholeLog(followed);
      await expectSharedRateLimits(h, service, 'sentinel-before');
      await expectSharedCache(h, service, 'sentinel-cached-before');
      await worker.kill('SIGTERM');
    }, 60_000);

    it('goes on after the primary is killed: resubscribed, no acknowledged task lost', async () => {
      // No worker runs: the task waits, followed on API 1, until after the failover.
      const taskId = await enqueueRefresh(service, 0, agentId);
      const channel = `${h.pubsubPrefix}taskEvents:${rowId(taskId)}`;
      const followed = followTask(h, service, 1, taskId);
      await expectSubscribers(sentinels, channel, 1);
      const acknowledged = [taskId];
      const enqueueSome = async () => {
        for (let i = 0; i < 4; i++)
          acknowledged.push(await enqueueRefresh(service, (i % 2) as 0 | 1, agentId));
      };
      await enqueueSome();

      await sentinels.primary.kill('SIGKILL');
      await enqueueSome(); // while Sentinel fails over: PostgreSQL takes them
      await waitFor(
        async () => (await sentinels.primaryPort()) === sentinels.replica.port,
        'the Sentinels to promote the replica',
        30_000,
      );
      await waitFor(
        () =>
          onNode(sentinels.replica.port, async (redis) =>
            /role:master/.test(await redis.info('replication')),
          ),
        'the replica to be the primary',
      );

      // Both processes subscribed again, on the new primary, by themselves.
      await expectSubscribers(sentinels, channel, 1);
      await expectSubscribers(sentinels, revoked(), 2);
      await enqueueSome();

      // Events after the kill arrive; the stream misses none of the log.
      await service.startWorker();
      await followed.done;
      expectWholeLog(followed);
      expect(followed.statuses[0]).toBe('PENDING');
      await expectAllCompleted(acknowledged);
      await expectSharedRateLimits(h, service, 'sentinel-after');
      await expectSharedCache(h, service, 'sentinel-cached-after');
    }, 60_000);
  },
);
