// Where Redis is: one node (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES) or a primary
// that Sentinel manages (REDIS_SENTINELS + REDIS_SENTINEL_NAME); docs/operations.md, "Redis
// Cluster and Sentinel". Part of config.ts's environment schema; parsed once into a target
// that src/platform/redis.ts turns into connections.
import { z } from 'zod';

/** host:port, or [ipv6]:port. */
export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; password?: string }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      /** The primary's name in Sentinel's configuration (`sentinel monitor <name> ...`). */
      name: string;
      /** The primary's and replicas' password. */
      password?: string;
      /** The Sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
      sentinelPassword?: string;
    };

const NODE = /^(\[[0-9a-fA-F:]+\]|[^\s:,[\]]+):(\d{1,5})$/;

const nodeList = z
  .string()
  .transform((text) => text.split(',').map((part) => part.trim()))
  .refine((parts) => parts.every((part) => NODE.test(part)), {
    message: 'must be host:port pairs separated by commas',
  })
  .transform((parts) =>
    parts.map((part) => {
      const [, host, port] = NODE.exec(part)!;
      return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
    }),
  );

export const redisEnv = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: nodeList.optional(),
  REDIS_SENTINELS: nodeList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
};

type RedisEnv = z.infer<z.ZodObject<typeof redisEnv>>;

/** What is wrong with the combination of Redis settings, if anything (one line naming the variable). */
export function redisCombinationProblem(
  e: RedisEnv,
  needed: { responseCache: boolean },
): string | undefined {
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter(
    (name) => e[name] !== undefined,
  );
  if (given.length > 1) return `${given.join(', ')}: set only one of them (where Redis is)`;
  if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_NAME)
    return 'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the primary Sentinel monitors)';
  if (e.REDIS_SENTINEL_NAME && !e.REDIS_SENTINELS)
    return 'REDIS_SENTINEL_NAME: only with REDIS_SENTINELS';
  if (e.REDIS_SENTINEL_PASSWORD && !e.REDIS_SENTINELS)
    return 'REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS';
  if (e.REDIS_PASSWORD && e.REDIS_URL)
    return 'REDIS_PASSWORD: put the password in REDIS_URL (redis://:password@host:port)';
  if (e.REDIS_PASSWORD && given.length === 0)
    return 'REDIS_PASSWORD: only with REDIS_CLUSTER_NODES or REDIS_SENTINELS';
  if (needed.responseCache && given.length === 0)
    return (
      'RESPONSE_CACHE: needs REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (every API ' +
      'process shares the cache through Redis)'
    );
  return undefined;
}

/** Undefined: no Redis (pub/sub in process, per-process limits, no response cache). */
export function redisTargetOf(e: RedisEnv): RedisTarget | undefined {
  const password = e.REDIS_PASSWORD;
  if (e.REDIS_URL) return { kind: 'single', url: e.REDIS_URL };
  if (e.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES, password };
  if (e.REDIS_SENTINELS)
    return {
      kind: 'sentinel',
      sentinels: e.REDIS_SENTINELS,
      name: e.REDIS_SENTINEL_NAME!,
      password,
      sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
    };
  return undefined;
}
