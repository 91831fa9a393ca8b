// PostgreSQL settings besides DATABASE_URL: the pool, and a transaction pooler in front
// (docs/operations.md, "Past one machine"). Part of config.ts's environment schema.
import { z } from 'zod';
import { milliseconds } from './config-milliseconds.js';

/** Connections kept open however long they idle (DATABASE_POOL_MIN unset). */
export const DEFAULT_POOL_MIN = 2;
/** A connection past the pool's min idle this long is closed (node-postgres's own default). */
export const DEFAULT_POOL_IDLE_MS = 10_000;

/**
 * A transaction whose process stopped between two statements (frozen, paused, cut off) would
 * otherwise stay open, its row locks with it, until the connection drops: a worker's turn holds
 * the task rows it wrote, which no other worker can then take back when their leases run out
 * (the reclaim skips locked rows). A minute: longer than any transaction this service runs
 * waits between two of its statements (the longest allowed, an interactive one, ends at 60 s).
 */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

export const databaseEnv = {
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  // Migrations (and anything else that needs a session) when DATABASE_URL is a transaction
  // pooler: docs/operations.md, "Past one machine".
  DIRECT_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  DATABASE_POOLER: z.enum(['none', 'pgbouncer']).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1_000).default(10),
  DATABASE_POOL_TIMEOUT_MS: milliseconds(1, 3_000),
  DATABASE_POOL_MIN: z.coerce.number().int().min(0).max(1_000).default(DEFAULT_POOL_MIN),
  DATABASE_POOL_IDLE_MS: milliseconds(100, DEFAULT_POOL_IDLE_MS),
  // 0: none (PostgreSQL's default).
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds(0, 0),
  // 0: none. A transaction's session ends when it waits this long for its next statement.
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: milliseconds(0, DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS),
  // Streaming replicas for reads that may lag (docs/operations.md, "Read replicas").
  DATABASE_REPLICA_URLS: z
    .string()
    .optional()
    .transform(
      (text) =>
        text
          ?.split(',')
          .map((url) => url.trim())
          .filter(Boolean) ?? [],
    )
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'each must be a postgresql:// URL'))),
  DATABASE_REPLICA_MAX_LAG_MS: milliseconds(0, 1_000),
};

type DatabaseEnv = z.infer<z.ZodObject<typeof databaseEnv>>;

/** How this process uses PostgreSQL besides its URL (docs/operations.md, "Past one machine"). */
export interface DatabaseSettings {
  /**
   * Where migrations run (DIRECT_DATABASE_URL, else DATABASE_URL): they need a session, which a
   * transaction pooler does not keep.
   */
  directUrl: string | undefined;
  /** DATABASE_URL is PgBouncer in transaction mode: nothing may outlive a transaction. */
  pooler: 'none' | 'pgbouncer';
  /** Connections this process opens at most (DATABASE_POOL_MAX). */
  poolMax: number;
  /** A statement waits at most this long for a connection, then is refused (DATABASE_POOL_TIMEOUT_MS). */
  poolTimeoutMs: number;
  /** Connections kept open however long they idle, at most poolMax (DATABASE_POOL_MIN). */
  poolMin: number;
  /** A connection past poolMin idle this long is closed (DATABASE_POOL_IDLE_MS). */
  poolIdleMs: number;
  /** PostgreSQL cancels a statement running longer (0: never; DATABASE_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /**
   * PostgreSQL ends a session whose transaction waits longer for its next statement (0: never;
   * DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS): a stopped process's locks do not outlive it.
   */
  idleInTransactionTimeoutMs: number;
  /** Streaming replicas that serve reads that may lag (DATABASE_REPLICA_URLS). */
  replicaUrls: string[];
  /** A replica further behind is skipped (DATABASE_REPLICA_MAX_LAG_MS). */
  replicaMaxLagMs: number;
}

/**
 * PgBouncer on its usual port counts as said (DATABASE_POOLER unset); any other setup says
 * DATABASE_POOLER=pgbouncer.
 */
export function databaseSettings(e: DatabaseEnv): DatabaseSettings {
  const onPgBouncerPort = e.DATABASE_URL ? new URL(e.DATABASE_URL).port === '6432' : false;
  return {
    directUrl: e.DIRECT_DATABASE_URL ?? e.DATABASE_URL,
    pooler: e.DATABASE_POOLER ?? (onPgBouncerPort ? 'pgbouncer' : 'none'),
    poolMax: e.DATABASE_POOL_MAX,
    poolTimeoutMs: e.DATABASE_POOL_TIMEOUT_MS,
    poolMin: Math.min(e.DATABASE_POOL_MIN, e.DATABASE_POOL_MAX),
    poolIdleMs: e.DATABASE_POOL_IDLE_MS,
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    replicaUrls: e.DATABASE_REPLICA_URLS,
    replicaMaxLagMs: e.DATABASE_REPLICA_MAX_LAG_MS,
  };
}
