// The service on a Redis Cluster (REDIS_CLUSTER_NODES): three masters with one replica each,
// two API processes and a worker. Pub/sub goes over sharded channels (SSUBSCRIBE on the shard
// that owns the channel, nothing on classic pub/sub), and after a master is killed (SIGKILL)
// and its replica takes over, every subscriber is subscribed again on the new master by
// itself, no acknowledged task is lost, and rate limits and the cache work on
// (docs/operations.md, "Redis Cluster and Sentinel").
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
  startRedisCluster,
  type RedisClusterFixture,
} from '../utils/redis-topology.js';

import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

/**
 * At least `count` processes hold an SSUBSCRIBE of `channel` on the master that owns it now,
 * and no node has a classic SUBSCRIBE of it.
 */
async function expectShardSubscribers(
  cluster: RedisClusterFixture,
  channel: string,
  count: number,
) {
  await waitFor(async () => {
    const owner = await cluster.masterOf(channel);
    const [, subscribers] = await onNode(owner, (redis) =>
      redis.call('PUBSUB', 'SHARDNUMSUB', channel),
    ).then((reply) => reply as [string, number]);
    return subscribers >= count;
  }, `${count} sharded subscriber(s) of ${channel} on its master`);
  for (const [port, node] of cluster.processes) {
    if (node.process.exitCode !== null || node.process.signalCode !== null) continue;
    const [, classic] = (await onNode(port, (redis) =>
      redis.call('PUBSUB', 'NUMSUB', channel),
    )) as [string, number];
    expect(classic, `classic subscribers of ${channel} on ${port}`).toBe(0);
  }
}

describe.skipIf(redisTopologyMissing)(
  `on a Redis Cluster${redisTopologyMissing ? ` (skipped: ${redisTopologyMissing})` : ''}`,
  () => {
    let cluster: RedisClusterFixture;
    let service: ServiceOnRedis;
    let agentId: string;
    const revoked = () => `${h.pubsubPrefix}apiKeyRevoked:all`;

    beforeAll(async () => {
      cluster = await startRedisCluster(h);
      service = await startServiceOnRedis(h, { REDIS_CLUSTER_NODES: cluster.env });
      agentId = await agentFor(h, 'clustered');
    }, 120_000);

    it('shares sharded pub/sub, rate limits and the cache between two API processes', async () => {
      const worker = await service.startWorker();
      // Each API process follows revoked keys: one sharded subscription each.
      await expectShardSubscribers(cluster, revoked(), 2);
      // Enqueued through one process, run by the worker, followed on the other.
      const taskId = await enqueueRefresh(service, 0, agentId);
      const followed = followTask(h, service, 1, taskId);
      await followed.done;
      expectWholeLog(followed);
      await expectSharedRateLimits(h, service, 'cluster-before');
      await expectSharedCache(h, service, 'cluster-cached-before');
      await worker.kill('SIGTERM');
    }, 60_000);

    it('goes on after a master is killed: resubscribed, no acknowledged task lost', async () => {
      // No worker runs: the task waits, followed on API 1, until after the failover.
      const taskId = await enqueueRefresh(service, 0, agentId);
      const channel = `${h.pubsubPrefix}taskEvents:${rowId(taskId)}`;
      const followed = followTask(h, service, 1, taskId);
      await expectShardSubscribers(cluster, channel, 1);
      const acknowledged = [taskId];
      const enqueueSome = async () => {
        for (let i = 0; i < 4; i++)
          acknowledged.push(await enqueueRefresh(service, (i % 2) as 0 | 1, agentId));
      };
      await enqueueSome();

      // The master that owns the followed channel's slot.
      const doomed = await cluster.masterOf(channel);
      await cluster.processes.get(doomed)!.kill('SIGKILL');
      await enqueueSome(); // while the cluster fails over: PostgreSQL takes them
      await cluster.untilHealthy();
      expect(await cluster.masterOf(channel)).not.toBe(doomed);

      // Both processes subscribed again, on the new masters, by themselves.
      await expectShardSubscribers(cluster, channel, 1);
      await expectShardSubscribers(cluster, revoked(), 2);
      await enqueueSome();

      // Events after the kill arrive; the stream misses none of the log.
      await service.startWorker();
      await followed.done;
      expectWholeLog(followed);
      expect(followed.statuses[0]).toBe('PENDING');
      await expectAllCompleted(acknowledged);
      await expectSharedRateLimits(h, service, 'cluster-after');
      await expectSharedCache(h, service, 'cluster-cached-after');
    }, 60_000);
  },
);
