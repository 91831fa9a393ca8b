// Plain Redis command connections (shared rate-limit buckets). The pub/sub module keeps
// its own publisher and subscriber: a subscribed connection cannot run commands.
import { Redis } from 'ioredis';
import { logger } from './logger.js';

/**
 * Connected (or failed) before it is returned, so the first command does not race the handshake.
 * `commandTimeoutMs`: a command Redis has not answered by then fails (a Redis that hangs rather
 * than drops the connection); unset, a command waits for its answer.
 */
export async function createRedisClient(
  redisUrl: string,
  connectionName: string,
  options: { commandTimeoutMs?: number } = {},
): Promise<Redis> {
  const client = new Redis(redisUrl, {
    connectionName,
    commandTimeout: options.commandTimeoutMs,
    lazyConnect: true,
    // Commands fail fast while Redis is away (callers fall back), instead of queueing.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
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
export function logConnectionErrors(connection: Redis, log: typeof logger): void {
  let wasReady = false;
  let warned = false;
  connection.on('ready', () => {
    wasReady = true;
    if (warned) log.info('redis connection back');
    warned = false;
  });
  connection.on('error', (err) => {
    if (!wasReady || warned) return log.debug({ err: err.message }, 'redis connection error');
    warned = true;
    log.warn({ err: err.message }, 'redis connection lost; retrying in the background');
  });
}

export async function closeRedisClient(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
