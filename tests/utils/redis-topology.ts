// Private Redis topologies for the failover tests: a Redis Cluster of three masters with one
// replica each, and a primary with one replica under three Sentinels, all on free ports in a
// temporary folder, killed and removed at the end of the file. Timings are short (a node is
// taken for dead after 1 s) so that a failover takes a few seconds.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from '../../src/platform/free-port.js';
import type { RedisNode } from '../../src/platform/redis.js';
import type { Harness } from './harness.js';
import { track, type Child } from './processes.js';
import { waitFor } from './wait.js';

const runs = (command: string) => spawnSync(command, ['--version']).status === 0;

/** Why the topology tests cannot run here, or undefined when they can. */
export const redisTopologyMissing = !runs('redis-server')
  ? 'redis-server is not installed'
  : !runs('redis-cli')
    ? 'redis-cli is not installed'
    : !runs('redis-sentinel')
      ? 'redis-sentinel is not installed'
      : undefined;

export interface RedisProcess extends Child {
  port: number;
}

const HOST = '127.0.0.1';

async function tempDir(h: Harness, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `${name}-`));
  // Registered first, so removed after every process in it was killed (cleanups run in order).
  h.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function redisServer(h: Harness, binary: string, args: string[], port: number): RedisProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // redis-server says "Ready to accept connections", a Sentinel "Sentinel ID is".
  return { ...track(child, /Ready to accept connections|Sentinel ID is/, h), port };
}

/** A one-off command on a node (closed at once). */
export async function onNode<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

export interface RedisClusterFixture {
  nodes: RedisNode[];
  /** REDIS_CLUSTER_NODES for the service. */
  env: string;
  processes: Map<number, RedisProcess>;
  /** The port of the master that owns the slot of `key` (a key or a shard channel), as the cluster says now. */
  masterOf(key: string): Promise<number>;
  /** Until every slot is served by a live master and every live node agrees. */
  untilHealthy(): Promise<void>;
}

/** Six redis-server processes in cluster mode: three masters, each with one replica. */
export async function startRedisCluster(h: Harness): Promise<RedisClusterFixture> {
  const dir = await tempDir(h, 'redis-cluster');
  // Each node listens on a client port and a cluster bus port. The bus defaults to the client
  // port + 10000, which nobody checked was free; every one is chosen free here instead.
  const picked = await freePorts(12);
  const ports = picked.slice(0, 6);
  const processes = new Map<number, RedisProcess>();
  for (const [i, port] of ports.entries()) {
    const args = [
      ...['--port', String(port), '--cluster-port', String(picked[6 + i]), '--bind', HOST],
      ...['--dir', dir],
      ...['--save', '', '--appendonly', 'no'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
      // A master silent for 1 s is failed over to its replica; a replica that lost touch with
      // its master longer than that may still take over (validity factor 0).
      ...['--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0'],
    ];
    processes.set(port, redisServer(h, 'redis-server', args, port));
  }
  await Promise.all([...processes.values()].map((p) => p.ready));
  const created = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((port) => `${HOST}:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  );
  if (created.status !== 0)
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}`);
  const alive = () =>
    [...processes.values()].filter(
      (p) => p.process.exitCode === null && p.process.signalCode === null,
    );
  const fixture: RedisClusterFixture = {
    nodes: ports.map((port) => ({ host: HOST, port })),
    env: ports.map((port) => `${HOST}:${port}`).join(','),
    processes,
    async masterOf(key) {
      const node = alive()[0]!;
      return onNode(node.port, async (redis) => {
        const slot = (await redis.cluster('KEYSLOT', key)) as number;
        // CLUSTER SLOTS: from, to, then the master's [host, port, id] and its replicas'.
        const ranges = await redis.cluster('SLOTS');
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        return range![2]![1];
      });
    },
    async untilHealthy() {
      await waitFor(
        async () => {
          const live = alive();
          const livePorts = new Set(live.map((p) => p.port));
          for (const node of live) {
            const info = await onNode(node.port, (redis) => redis.cluster('INFO')).catch(() => '');
            if (!String(info).includes('cluster_state:ok')) return false;
            const ranges = await onNode(node.port, (redis) => redis.cluster('SLOTS')).catch(
              () => [],
            );
            // Every slot served by a live master, as every live node sees it.
            if (ranges.some((range) => !livePorts.has(range[2]![1]))) return false;
          }
          return true;
        },
        'every slot of the Redis Cluster served by a live master',
        30_000,
      );
    },
  };
  await fixture.untilHealthy();
  // Replicas attached and in sync: a failover needs a replica that has the master's data.
  await waitFor(
    async () => {
      const roles = await Promise.all(
        ports.map((port) => onNode(port, (redis) => redis.info('replication'))),
      );
      return (
        roles.filter((info) => /role:slave[\s\S]*master_link_status:up/.test(info)).length === 3
      );
    },
    'every replica in sync with its master',
    30_000,
  );
  return fixture;
}

export interface SentinelFixture {
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** REDIS_SENTINELS for the service. */
  env: string;
  name: string;
  /** The port of the primary the Sentinels name now. */
  primaryPort(): Promise<number>;
}

/**
 * A primary and its replica under three Sentinels (quorum 2): a primary silent for 1 s is
 * taken for down, and the replica promoted.
 */
export async function startRedisSentinels(h: Harness, name = 'main'): Promise<SentinelFixture> {
  const dir = await tempDir(h, 'redis-sentinel');
  // Five ports, none twice: two Sentinels given one port would share one configuration file,
  // which one may read while the other's write has emptied it (the likely cause of the one
  // failure seen: a Sentinel that tried the default port, 26379).
  const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(5);
  const base = (port: number) => [
    ...['--port', String(port), '--bind', HOST, '--dir', dir],
    ...['--save', '', '--appendonly', 'no'],
  ];
  const primary = redisServer(h, 'redis-server', base(primaryPort), primaryPort);
  await primary.ready;
  const replica = redisServer(
    h,
    'redis-server',
    [...base(replicaPort), '--replicaof', HOST, String(primaryPort)],
    replicaPort,
  );
  await replica.ready;
  await waitFor(
    () =>
      onNode(replicaPort, async (redis) =>
        /master_link_status:up/.test(await redis.info('replication')),
      ),
    'the replica in sync',
  );
  const sentinels: RedisProcess[] = [];
  for (const port of sentinelPorts) {
    // A Sentinel rewrites its configuration file as it learns: one writable file each.
    const file = path.join(dir, `sentinel-${port}.conf`);
    await writeFile(
      file,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(redisServer(h, 'redis-sentinel', [file], port));
  }
  await Promise.all(sentinels.map((s) => s.ready));
  // Each Sentinel knows the replica and the two others (hello messages every 2 s): needed
  // for the quorum and the leader election of a failover.
  await waitFor(
    async () => {
      for (const sentinel of sentinels) {
        const known = await onNode(sentinel.port, async (redis) => ({
          replicas: ((await redis.call('SENTINEL', 'REPLICAS', name)) as unknown[]).length,
          others: ((await redis.call('SENTINEL', 'SENTINELS', name)) as unknown[]).length,
        }));
        if (known.replicas < 1 || known.others < 2) return false;
      }
      return true;
    },
    'the Sentinels to know the replica and each other',
    30_000,
  );
  return {
    primary,
    replica,
    sentinels,
    env: sentinels.map((s) => `${HOST}:${s.port}`).join(','),
    name,
    primaryPort: () =>
      onNode(sentinels[0]!.port, async (redis) => {
        const [, port] = (await redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [
          string,
          string,
        ];
        return Number(port);
      }),
  };
}
