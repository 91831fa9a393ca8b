// Every Redis connection of the service, built from one target: a single node (REDIS_URL), a
// Redis Cluster (REDIS_CLUSTER_NODES) or a primary that Sentinel manages (REDIS_SENTINELS);
// docs/operations.md, "Redis Cluster and Sentinel". The pub/sub module keeps its own publisher
// and subscriber (a subscribed connection cannot run commands), made here all the same.
//
// Keys, for new code: on a cluster every key lives in one of 16,384 slots, and a command or
// script that names several keys must find them all in one slot (else CROSSSLOT). Redis
// hashes only the part of a key between the first `{` and the next `}` when there is one, so
// keys that one operation touches together share a hash tag: `slotKeys(prefix, family)` gives
// `<prefix>{<family>}:`, and every key built on it lands in the same slot. A key that is only
// ever used alone needs no tag (and should have none: a tag piles its family on one shard).
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './config-redis.js';
import { logger } from './logger.js';
import { redactUrl } from './startup-failure.js';

export type { RedisNode, RedisTarget } from './config-redis.js';

/** A connection to any kind of target: ioredis's Redis (single, Sentinel) or Cluster. */
export type RedisConnection = Redis | Cluster;

/** A target, or a redis:// URL for a single node (what tests and benches pass). */
export type RedisSource = RedisTarget | string;

export const redisTarget = (source: RedisSource): RedisTarget =>
  typeof source === 'string' ? { kind: 'single', url: source } : source;

/** The start of every key of one family: `<prefix>{<family>}:` (see the note at the top). */
export const slotKeys = (prefix: string, family: string): string => `${prefix}{${family}}:`;

/** Where the target is, for messages: no password, and the variable that says it. */
export function describeRedisTarget(source: RedisSource): string {
  const target = redisTarget(source);
  const nodes = (list: Array<{ host: string; port: number }>) =>
    list.map(({ host, port }) => `${host}:${port}`).join(',');
  switch (target.kind) {
    case 'single':
      return `${redactUrl(target.url)} (REDIS_URL)`;
    case 'cluster':
      return `the cluster at ${nodes(target.nodes)} (REDIS_CLUSTER_NODES)`;
    case 'sentinel':
      return `primary "${target.name}" of the Sentinels at ${nodes(target.sentinels)} (REDIS_SENTINELS)`;
  }
}

export interface RedisConnectionOptions {
  /** CLIENT SETNAME, so `CLIENT LIST` says which part of the service a connection is. */
  connectionName: string;
  /** A command Redis has not answered by then fails (a Redis that hangs rather than drops). */
  commandTimeoutMs?: number;
  /**
   * Commands wait for a reconnect (true) or fail at once while Redis is away (false, the
   * default: callers fall back rather than queue without bound).
   */
  offlineQueue?: boolean;
  /** Retries of a command cut off by a lost connection (default 1). */
  maxRetriesPerRequest?: number;
  /** Commands of one tick leave in one write (per node on a cluster). */
  autoPipelining?: boolean;
  /** Connect only on `connect()` (default: at once). */
  lazyConnect?: boolean;
  /**
   * A connection that only subscribes: on a cluster it subscribes with SSUBSCRIBE on the shard
   * that owns each channel (ioredis's sharded subscribers), and resubscribes after a failover.
   */
  subscriber?: boolean;
}

const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2_000);

/**
 * One connection to the target. ioredis reconnects by itself: to the same node, to the
 * primary Sentinel names now, or to the cluster's new masters (slots refreshed on a lost node
 * and every SLOTS_REFRESH_MS), and resubscribes what was subscribed.
 */
export function createRedisConnection(
  source: RedisSource,
  options: RedisConnectionOptions,
): RedisConnection {
  const target = redisTarget(source);
  const common: RedisOptions = {
    connectionName: options.connectionName,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
  };
  const offlineQueue = options.offlineQueue ?? false;
  if (target.kind === 'cluster') {
    const clusterOptions: ClusterOptions = {
      // Per node: ioredis queues on a node until it connects (nodes connect lazily); whether
      // a command waits while the cluster itself is down is the cluster's offline queue.
      redisOptions: { ...common, password: target.password },
      enableOfflineQueue: offlineQueue,
      enableAutoPipelining: options.autoPipelining ?? false,
      lazyConnect: options.lazyConnect ?? false,
      clusterRetryStrategy: retryStrategy,
      // A replica promoted while no command failed over is found by this poll.
      slotsRefreshInterval: SLOTS_REFRESH_MS,
      shardedSubscribers: options.subscriber ?? false,
    };
    return new Cluster(target.nodes, clusterOptions);
  }
  const single: RedisOptions = {
    ...common,
    enableOfflineQueue: offlineQueue,
    enableAutoPipelining: options.autoPipelining ?? false,
    lazyConnect: options.lazyConnect ?? false,
    retryStrategy,
  };
  if (target.kind === 'single') return new Redis(target.url, single);
  return new Redis({
    ...single,
    sentinels: target.sentinels,
    name: target.name,
    password: target.password,
    sentinelPassword: target.sentinelPassword,
    // A primary turned into a replica (a failover while it stayed up) refuses writes with
    // READONLY: reconnect, to the primary Sentinel names now. Not ioredis's failoverDetector:
    // its +switch-master disconnect, when it lands while the client is reconnecting, ends the
    // client for good (status 'end', no more retries).
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    sentinelRetryStrategy: retryStrategy,
  });
}

/** How often a cluster connection reads the slot map again (a failover moves slots to a replica). */
const SLOTS_REFRESH_MS = 2_000;

/** Is this a cluster connection (sharded pub/sub, one slot per multi-key operation)? */
export const isCluster = (connection: RedisConnection): connection is Cluster =>
  connection instanceof Cluster;

/**
 * Connected (or failed) before it is returned, so the first command does not race the handshake.
 * Commands fail fast while Redis is away (no offline queue); errors logged once per outage.
 */
export async function createRedisClient(
  source: RedisSource,
  connectionName: string,
  options: { commandTimeoutMs?: number } = {},
): Promise<RedisConnection> {
  const client = createRedisConnection(source, {
    connectionName,
    commandTimeoutMs: options.commandTimeoutMs,
    lazyConnect: true,
  });
  const log = logger.child({ module: 'redis', connectionName });
  logConnectionErrors(client, log);
  await client
    .connect()
    .catch((err) =>
      log.warn(
        { err: (err as Error).message },
        'redis not reachable yet; retrying in the background',
      ),
    );
  return client;
}

/**
 * One warning per outage (ioredis reports every reconnect attempt), and none before the
 * connection was ever up: a start that cannot reach Redis says so in its own line.
 */
export function logConnectionErrors(connection: RedisConnection, log: typeof logger): void {
  let wasReady = false;
  let warned = false;
  const back = () => {
    wasReady = true;
    if (warned) log.info('redis connection back');
    warned = false;
  };
  const lost = (err: Error) => {
    if (!wasReady || warned) return log.debug({ err: err.message }, 'redis connection error');
    warned = true;
    log.warn({ err: err.message }, 'redis connection lost; retrying in the background');
  };
  connection.on('ready', back);
  connection.on('error', lost);
  // A cluster stays ready while one node is lost: that node's errors are the outage, and a
  // node joining the slot map (a new master after a failover) its end.
  if (isCluster(connection)) {
    connection.on('node error', lost);
    connection.on('+node', () => wasReady && back());
  }
}

export async function closeRedisClient(client: RedisConnection): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
