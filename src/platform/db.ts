// The Prisma client: a module singleton (not in the GraphQL context), connected once
// the database URL is known (it comes from the embedded PostgreSQL when DATABASE_URL is unset).
import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { runDescribed } from './described-query.js';
import { poolTypes } from './timestamptz.js';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { logger } from './logger.js';
import {
  DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_POOL_MIN,
} from './config-database.js';
import { noteDatabaseUrl } from './errors.js';

let client: PrismaClient | undefined;
/** The pool behind the adapter: made here so that its counts can be read (databasePoolStats). */
let pool: pg.Pool | undefined;
/** The same pool past Prisma (poolQueryable). */
let poolClient: Queryable | undefined;

/**
 * What a raw statement runs on: the client, a transaction's client (see Transaction), or the
 * pool itself (poolQueryable).
 */
export interface Queryable {
  $queryRaw<T = unknown>(
    query: TemplateStringsArray | Prisma.Sql,
    ...values: unknown[]
  ): Promise<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number>;
}

export interface DatabaseOptions {
  /** Connections at most (DATABASE_POOL_MAX); 10 unset. */
  poolSize?: number;
  /** A statement waits this long for a connection, then fails (DATABASE_POOL_TIMEOUT_MS); 3 s unset. */
  acquireTimeoutMs?: number;
  /** Connections kept open however long they idle (DATABASE_POOL_MIN); 2 unset, at most poolSize. */
  poolMin?: number;
  /** A connection past poolMin idle this long is closed (DATABASE_POOL_IDLE_MS); 10 s unset. */
  poolIdleMs?: number;
  /** PostgreSQL cancels a statement running longer (DATABASE_STATEMENT_TIMEOUT_MS); 0 or unset: never. */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL ends a session whose transaction waits this long for its next statement
   * (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS); 0: never; unset: 60 s.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * 'pgbouncer': the URL is PgBouncer in transaction mode, where a server connection serves
   * another client between two transactions: no statement is prepared by name (PgBouncer 1.18
   * does not carry them) and nothing is set on the session (startup options are refused).
   */
  pooler?: 'none' | 'pgbouncer';
  /**
   * Called with every SQL statement and its duration in ms as Prisma reports it (waiting for
   * a pooled connection, round trip and commit; tests count statements to catch N+1
   * queries, the enqueue benchmark times its insert).
   */
  onQuery?: (sql: string, durationMs: number) => void;
}

const PREPARED_MARK = '/* prepared */';

/**
 * Put first in a raw statement's SQL: each pooled connection prepares it once and reuses its
 * plan. For the queue's statements (enqueue, claim, finish) planning cost about as much as
 * running them. Only for statements whose text never varies (every value a parameter): each
 * distinct text is kept prepared on every connection. Its result type must not change with
 * a migration (see taskColumns): that would break the release still running.
 */
export const PREPARED = Prisma.raw(`${PREPARED_MARK} `);

/** Off behind a transaction pooler (DatabaseOptions.pooler): every statement is unnamed. */
let namedStatements = true;

/**
 * Marked statements seen so far, by a short key of their text (textKey), each with its name;
 * past the cap, new texts run unprepared. Not by the text itself: each run builds its text
 * afresh (a rope of its fragments), and a Map lookup then hashed all of it: 33 µs for a
 * workflow step commit's 13.5 KB against 8 µs for this key and an equality check
 * (bench/README.md, "Workflows").
 */
const statementNames = new Map<string, Array<{ text: string; name: string }>>();
let preparedStatements = 0;
const MAX_PREPARED_STATEMENTS = 100;
let warnedOfVaryingText = false;
/** Its length and its end (the statements share their beginnings); texts are told apart by equality. */
const textKey = (sql: string) => `${sql.length}:${sql.slice(-160)}`;

/** The adapter's statementNameGenerator: a name (from the text) for marked statements only. */
function preparedStatementName({ sql }: { sql: string }): string | undefined {
  if (!namedStatements || !sql.startsWith(PREPARED_MARK)) return undefined;
  const key = textKey(sql);
  const known = statementNames.get(key);
  const found = known?.find((statement) => statement.text === sql);
  if (found) return found.name;
  if (preparedStatements >= MAX_PREPARED_STATEMENTS) {
    if (!warnedOfVaryingText)
      logger.warn(
        { sql: sql.slice(0, 200) },
        'a statement marked PREPARED varies in its text: new variants run unprepared',
      );
    warnedOfVaryingText = true;
    return undefined;
  }
  const name = `prepared_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
  if (known) known.push({ text: sql, name });
  else statementNames.set(key, [{ text: sql, name }]);
  preparedStatements++;
  return name;
}

const POOL_ACQUIRE_TIMEOUT_MS = 3_000;

/**
 * Prisma's errors without the call site (a source path and lines of code): their messages end
 * up where a caller reads them (a task's error, written from what its handler threw).
 */
export const ERROR_FORMAT = 'minimal' as const;

let idleInTransactionTimeoutMs = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS;

/** Session settings sent at connection start (`-c name=value`), where the pooler allows them. */
function startupOptions(options: DatabaseOptions): string | undefined {
  if (options.pooler === 'pgbouncer') return undefined;
  const settings = ['jit_above_cost=5000000'];
  if (options.statementTimeoutMs) settings.push(`statement_timeout=${options.statementTimeoutMs}`);
  settings.push(`idle_in_transaction_session_timeout=${idleInTransactionTimeoutMs}`);
  return settings.map((setting) => `-c ${setting}`).join(' ');
}

export function connectDatabase(databaseUrl: string, options: DatabaseOptions = {}): PrismaClient {
  if (client) throw new Error('The database is already connected');
  namedStatements = options.pooler !== 'pgbouncer';
  idleInTransactionTimeoutMs =
    options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS;
  // JIT compilation only for statements the planner costs far above PostgreSQL's default
  // threshold: it is paid on every execution, and was a large part of a search statement's
  // time over the GIN index (bench/README.md). An `options` in the URL takes precedence.
  // Behind PgBouncer both settings belong to the role (docs/operations.md).
  const max = options.poolSize ?? 10;
  noteDatabaseUrl(databaseUrl);
  pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    // A few connections stay however long the process idles: a new one cost 2.7 ms to open and
    // its first statement 2 ms more (PostgreSQL's catalog caches start empty on each; measured
    // on loopback), which the first request after every lull paid once all had timed out.
    min: Math.min(options.poolMin ?? DEFAULT_POOL_MIN, max),
    idleTimeoutMillis: options.poolIdleMs ?? DEFAULT_POOL_IDLE_MS,
    // A request waits at most this long for a connection (PostgreSQL away, the pool spent):
    // it is then refused as SERVICE_UNAVAILABLE rather than left hanging.
    connectionTimeoutMillis: options.acquireTimeoutMs ?? POOL_ACQUIRE_TIMEOUT_MS,
    options: startupOptions(options),
    // For the raw statements on the pool only: Prisma's adapter sets its own parsers per query.
    types: poolTypes,
  });
  // A connection PostgreSQL ends (a shutdown, a restart, pg_terminate_backend) while it is
  // checked out between two statements (a pooled transaction's) has no query to fail with it:
  // node-postgres then emits 'error' on the connection, and an 'error' nobody listens to ends
  // the process. Listened to here, the connection's next statement fails instead, and its
  // holder gives it back broken.
  pool.on('connect', (connection) =>
    connection.on('error', (err) =>
      logger.debug({ err: err.message }, 'a database connection ended'),
    ),
  );
  // An idle connection PostgreSQL ends is taken out of the pool, which then emits 'error':
  // with no listener that ends the process. Prisma's adapter listens only once Prisma has
  // run a statement; the pool's raw statements (poolQueryable) may come first, or alone.
  pool.on('error', (err) =>
    logger.debug({ err: err.message }, 'an idle database connection ended'),
  );
  poolClient = queryableOn(pool, options.onQuery);
  onQueryOfPool = options.onQuery;
  // The type says string, but undefined (the default: no name) is what unmarked statements need.
  const adapter = new PrismaPg(pool, {
    statementNameGenerator: preparedStatementName as (query: { sql: string }) => string,
    disposeExternalPool: true,
  });
  if (options.onQuery) {
    const onQuery = options.onQuery;
    const logged = new PrismaClient({
      adapter,
      errorFormat: ERROR_FORMAT,
      log: [{ emit: 'event', level: 'query' }],
    });
    logged.$on('query', (event) => onQuery(event.query, event.duration));
    client = logged;
  } else {
    client = new PrismaClient({ adapter, errorFormat: ERROR_FORMAT });
  }
  return client;
}

/**
 * Raw statements straight on the pool, past Prisma: for a busy worker's turns, whose result
 * rows Prisma's raw-query mapping and the adapter's value conversions were the largest part of
 * the worker's CPU after garbage collection (docs/architecture.md). node-postgres' default
 * parsers give the same values for the types those statements return (timestamptz as Date,
 * json as parsed values, int4 and float8 as numbers); not for int8 or numeric (strings here),
 * so statements run here return neither. Seen by DatabaseOptions.onQuery, as Prisma's are.
 */
export function poolQueryable(): Queryable {
  if (!poolClient) throw new Error('The database is not connected: call connectDatabase() first');
  return poolClient;
}

let onQueryOfPool: DatabaseOptions['onQuery'];

function queryableOn(
  target: pg.Pool | pg.PoolClient,
  onQuery: DatabaseOptions['onQuery'],
): Queryable {
  const run = async (query: TemplateStringsArray | Prisma.Sql, values: unknown[]) => {
    const sql = query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
    const text = sql.text;
    const name = preparedStatementName({ sql: text });
    if (!onQuery) return runDescribed(target, text, sql.values, name);
    const started = performance.now();
    try {
      return await runDescribed(target, text, sql.values, name);
    } finally {
      onQuery(text, performance.now() - started);
    }
  };
  return {
    $queryRaw: async <T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
      (await run(query, values)).rows as T,
    $executeRaw: async (query, ...values) => (await run(query, values)).rowCount,
  };
}

/** The pool itself, for a module that runs beside Prisma on the primary (read replicas' polls). */
export function databasePool(): pg.Pool {
  if (!pool) throw new Error('The database is not connected: call connectDatabase() first');
  return pool;
}

export function db(): PrismaClient {
  if (!client) throw new Error('The database is not connected: call connectDatabase() first');
  return client;
}

export interface DatabasePoolStats {
  /** Connections lent out now (a statement or a transaction holds each). */
  inUse: number;
  idle: number;
  /** Requests queued for a connection: the pool is exhausted while this stays above 0. */
  waiting: number;
  max: number;
}

/** The pool's counts now, for /metrics; undefined before connectDatabase. */
export function databasePoolStats(): DatabasePoolStats | undefined {
  if (!pool) return undefined;
  const { totalCount, idleCount, waitingCount, options } = pool;
  return {
    inUse: totalCount - idleCount,
    idle: idleCount,
    waiting: waitingCount,
    max: options.max,
  };
}

/** A probe waits this long for PostgreSQL's answer: one that hangs is as good as none. */
const REACHABLE_TIMEOUT_MS = 1_000;

/** For readiness probes (the API's and a worker's): whether PostgreSQL answers, and soon. */
export function databaseReachable(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), REACHABLE_TIMEOUT_MS);
  });
  const answered = db().$queryRaw`SELECT 1`.then(
    () => true,
    () => false,
  );
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

/** A transaction's client, and what to do once it has committed. */
export interface Transaction {
  client: Prisma.TransactionClient;
  /** Runs after the commit: pub/sub signals must not announce rows that a rollback undoes. */
  afterCommit(callback: () => void): void;
}

/** db().$transaction, with after-commit callbacks (see Transaction). */
export async function inTransaction<T>(
  run: (tx: Transaction) => Promise<T>,
  options?: { timeout?: number },
): Promise<T> {
  const committed: Array<() => void> = [];
  const result = await db().$transaction(
    (client) => run({ client, afterCommit: (callback) => void committed.push(callback) }),
    options,
  );
  for (const callback of committed) callback();
  return result;
}

/** A transaction on one of the pool's connections, past Prisma (see poolQueryable). */
export interface PoolTransaction {
  client: Queryable;
  /** Runs after the commit, as Transaction's. */
  afterCommit(callback: () => void): void;
}

/** What a pooled transaction's statements may each take, as interactive transactions were allowed. */
const POOL_TRANSACTION_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * A transaction straight on a pooled connection: for the worker's commits of steps, whose
 * interactive transaction through Prisma cost a round trip and its mapping per statement.
 * Its after-commit callbacks run once the connection is back in the pool; one that throws is
 * logged, never taken for a failed transaction (the commit stands).
 */
export async function inPoolTransaction<T>(run: (tx: PoolTransaction) => Promise<T>): Promise<T> {
  if (!pool) throw new Error('The database is not connected: call connectDatabase() first');
  const connection = await pool.connect();
  const committed: Array<() => void> = [];
  let broken: Error | undefined;
  let result: T;
  try {
    // One round trip: a transaction-scoped timeout (SET LOCAL keeps nothing on the session),
    // and generic plans from the first run. Its statements are the worker's prepared ones,
    // written for the plan PostgreSQL caches; left to choose, PostgreSQL plans each five times
    // per pooled connection before keeping that one, and a step commit's plan takes about
    // 3 ms: 120 of 660 commits were planned so in a run of 20,000 steps on 20 connections,
    // a tenth of those commits' time (bench/README.md, "Workflows").
    // The idle bound again here: behind PgBouncer no session setting reaches PostgreSQL.
    await connection.query(
      `BEGIN; SET LOCAL statement_timeout = ${POOL_TRANSACTION_STATEMENT_TIMEOUT_MS}; ` +
        `SET LOCAL idle_in_transaction_session_timeout = ${idleInTransactionTimeoutMs}; ` +
        'SET LOCAL plan_cache_mode = force_generic_plan',
    );
    try {
      result = await run({
        client: queryableOn(connection, onQueryOfPool),
        afterCommit: (callback) => void committed.push(callback),
      });
    } catch (error) {
      await connection.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    }
    await connection.query('COMMIT');
  } catch (error) {
    // A connection that failed mid-transaction (or could not roll back) is not reused.
    broken ??= (error as { code?: string }).code === undefined ? (error as Error) : undefined;
    throw error;
  } finally {
    connection.release(broken);
  }
  for (const callback of committed) {
    try {
      callback();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'an after-commit callback failed');
    }
  }
  return result;
}

export async function disconnectDatabase(): Promise<void> {
  const current = client;
  const currentPool = pool;
  client = undefined;
  pool = undefined;
  poolClient = undefined;
  // Ends the pool too (disposeExternalPool), once Prisma has connected; a pool only raw
  // statements used is ended here, or its idle connections (DATABASE_POOL_MIN) would stay.
  await current?.$disconnect();
  if (currentPool && !currentPool.ending) await currentPool.end();
}

export type { PrismaClient };

/**
 * Runs `work` in the transaction `tx` so that `signal` (a request whose client went away, a
 * cancelled task) stops it: the statement PostgreSQL is running for it is cancelled with
 * pg_cancel_backend from another connection (node-postgres sends no cancel request of its
 * own), and the work rejects with the signal's reason, so the transaction rolls back.
 * PostgreSQL discards a cancel that reaches a backend between statements, and the cancel has
 * completed before this returns: it never reaches a statement of the connection's next user.
 */
export async function cancellableOn<T>(
  tx: Pick<Queryable, '$queryRaw'>,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!signal) return work();
  signal.throwIfAborted();
  const [{ pid }] = await tx.$queryRaw<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
  let cancelling: Promise<unknown> | undefined;
  const cancel = () => {
    cancelling = db().$queryRaw`SELECT pg_cancel_backend(${pid}::int)`.catch((err: unknown) =>
      logger.warn({ err }, 'cancelling an abandoned statement failed'),
    );
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const result = await work();
    signal.throwIfAborted();
    return result;
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener('abort', cancel);
    await cancelling;
  }
}
