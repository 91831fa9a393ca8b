// Read replicas with read-your-writes (docs/operations.md, "Read replicas"). Reads that may
// lag go to a streaming replica through readDb(reader); a caller's own writes are waited for:
// each mutation records the primary's WAL position per writer (in Redis when set, so every
// API process sees it), and a replica serves that writer only once it has replayed past it.
// Everything else (transactions that write, the queue, the live feeds) stays on db().
import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { DEFAULT_POOL_IDLE_MS, DEFAULT_POOL_MIN } from './config-database.js';
import { noteDatabaseUrl } from './errors.js';
import { db, ERROR_FORMAT } from './db.js';
import { logger } from './logger.js';
import type { RedisConnection } from './redis.js';

export interface ReplicaOptions {
  urls: readonly string[];
  /** A replica further behind than this is skipped (DATABASE_REPLICA_MAX_LAG_MS). */
  maxLagMs: number;
  /** How often each replica's position is read (and the primary's). */
  pollMs?: number;
  poolSize?: number;
  acquireTimeoutMs?: number;
  /** Connections kept open however long they idle, as the primary's pool (db.ts). */
  poolMin?: number;
  poolIdleMs?: number;
  /** Where writers' positions are shared between processes; unset: this process only. */
  redis?: RedisConnection;
  keyPrefix?: string;
}

export interface ReplicaState {
  name: string;
  up: boolean;
  /** How far behind the primary it was at the last poll (Infinity when unknown). */
  lagMs: number;
}

export type ReadTarget = 'primary' | string;

interface Replica {
  name: string;
  pool: ReplicaPool;
  client: PrismaClient;
  up: boolean;
  /** The last WAL position it had replayed, read at the last poll. */
  replayed: bigint;
  lagMs: number;
}

/** Errors after which a read is better asked of the primary than failed. */
const FALLBACK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (a replica starting)
  '40001', // a query cancelled by a conflict with recovery (hot standby)
]);

function unreachable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && FALLBACK_CODES.has(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/.test(
    message ?? '',
  );
}

/**
 * A replica's pool that asks the primary's instead when the replica cannot answer: a replica
 * that went down between two polls costs a read nothing but a failed connection attempt.
 */
class ReplicaPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    private readonly fallback: () => pg.Pool,
    private readonly onUnreachable: () => void,
  ) {
    super(config);
  }

  override query(...args: unknown[]): never {
    const run = super.query as (...a: unknown[]) => unknown;
    if (typeof args.at(-1) === 'function') return run.apply(this, args) as never;
    return (run.apply(this, args) as Promise<unknown>).catch((error: unknown) => {
      if (!unreachable(error)) throw error;
      this.onUnreachable();
      return (this.fallback().query as (...a: unknown[]) => Promise<unknown>)(...args);
    }) as never;
  }

  override connect(...args: unknown[]): never {
    const run = super.connect as (...a: unknown[]) => unknown;
    if (typeof args.at(-1) === 'function') return run.apply(this, args) as never;
    return (run.apply(this) as Promise<pg.PoolClient>).catch((error: unknown) => {
      if (!unreachable(error)) throw error;
      this.onUnreachable();
      return this.fallback().connect();
    }) as never;
  }
}

/** `X/Y` (pg_lsn's text) as one number. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** Fixed-width hex, so that Redis compares positions as strings. */
const lsnKey = (lsn: bigint) => lsn.toString(16).padStart(16, '0');

// Keeps the larger of the stored position and the new one, and extends its life.
const RECORD_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

export class ReadRouting {
  private readonly replicas: Replica[];
  /** Writers' last positions in this process, and when; forgotten after rememberMs. */
  private readonly local = new Map<string, { lsn: bigint; at: number }>();
  /** The primary's positions at recent polls, oldest first: how lag is told in time. */
  private samples: Array<{ lsn: bigint; at: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private next = 0;
  readonly reads = new Map<ReadTarget, number>();
  private readonly rememberMs: number;

  constructor(
    private readonly primaryPool: () => pg.Pool,
    private readonly options: ReplicaOptions,
  ) {
    this.rememberMs = Math.max(60_000, options.maxLagMs * 10);
    this.replicas = options.urls.map((url, index) => {
      const name = `replica-${index}`;
      const replica = { name, up: false, replayed: 0n, lagMs: Infinity } as Replica;
      noteDatabaseUrl(url);
      replica.pool = new ReplicaPool(
        {
          connectionString: url,
          max: options.poolSize ?? 10,
          connectionTimeoutMillis: options.acquireTimeoutMs ?? 3_000,
          min: Math.min(options.poolMin ?? DEFAULT_POOL_MIN, options.poolSize ?? 10),
          idleTimeoutMillis: options.poolIdleMs ?? DEFAULT_POOL_IDLE_MS,
        },
        primaryPool,
        () => this.markDown(replica),
      );
      replica.pool.on('error', () => this.markDown(replica));
      replica.client = new PrismaClient({
        adapter: new PrismaPg(replica.pool),
        errorFormat: ERROR_FORMAT,
      });
      return replica;
    });
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, this.options.pollMs ?? 200);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    // The pools are the routing's own: Prisma's disconnect leaves an external pool open.
    await Promise.all(
      this.replicas.map(async (replica) => {
        await replica.client.$disconnect();
        await replica.pool.end();
      }),
    );
  }

  state(): ReplicaState[] {
    return this.replicas.map(({ name, up, lagMs }) => ({ name, up, lagMs }));
  }

  /** After a writer's mutation: the primary's position now covers its commits. */
  async recordWrite(writer: string): Promise<void> {
    const [row] = await db().$queryRaw<Array<{ lsn: string }>>`
      SELECT pg_current_wal_lsn()::text AS lsn`;
    const lsn = parseLsn(row!.lsn);
    const known = this.local.get(writer);
    if (!known || known.lsn < lsn) this.local.set(writer, { lsn, at: Date.now() });
    const { redis } = this.options;
    if (redis)
      await redis
        .eval(RECORD_SCRIPT, 1, this.writerKey(writer), lsnKey(lsn), this.rememberMs)
        .catch((err: Error) => {
          // Not shared: other processes may serve this writer from a replica that is behind.
          logger.warn({ err: err.message }, 'read-your-writes position not shared (Redis)');
        });
  }

  /** Where a read for `writer` may go: a replica that has its last write, else the primary. */
  async target(writer: string | undefined): Promise<{ name: ReadTarget; client: PrismaClient }> {
    const fresh = this.replicas.filter((r) => r.up && r.lagMs <= this.options.maxLagMs);
    let chosen: Replica | undefined;
    if (fresh.length) {
      const needed = writer === undefined ? 0n : await this.lastWrite(writer);
      const caughtUp = needed === undefined ? [] : fresh.filter((r) => r.replayed >= needed);
      if (caughtUp.length) chosen = caughtUp[this.next++ % caughtUp.length];
    }
    const name = chosen?.name ?? 'primary';
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    return { name, client: chosen?.client ?? db() };
  }

  /** The writer's last recorded position (0: none); undefined when it cannot be told. */
  private async lastWrite(writer: string): Promise<bigint | undefined> {
    const local = this.local.get(writer)?.lsn ?? 0n;
    const { redis } = this.options;
    if (!redis) return local;
    try {
      const shared = await redis.get(this.writerKey(writer));
      const remote = shared ? BigInt(`0x${shared}`) : 0n;
      return remote > local ? remote : local;
    } catch {
      return undefined;
    }
  }

  private writerKey(writer: string): string {
    return `${this.options.keyPrefix ?? ''}read-your-writes:{${writer}}`;
  }

  private markDown(replica: Replica): void {
    if (replica.up)
      logger.warn({ replica: replica.name }, 'replica unreachable: reads go to the primary');
    replica.up = false;
  }

  /** The primary's position, then each replica's: how far behind in WAL and in time. */
  private async poll(): Promise<void> {
    const now = Date.now();
    try {
      const { rows } = await this.primaryPool().query<{ lsn: string }>(
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      this.samples.push({ lsn: parseLsn(rows[0]!.lsn), at: now });
    } catch {
      return; // The primary away: nothing to compare with (reads fail over to it anyway).
    }
    for (const [writer, { at }] of this.local)
      if (at < now - this.rememberMs) this.local.delete(writer);
    const horizon = now - Math.max(this.options.maxLagMs * 4, 10_000);
    while (this.samples.length > 2 && this.samples[0]!.at < horizon) this.samples.shift();
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          // Straight on the replica's pool (pg.Pool's query, not the fallback's).
          const direct = pg.Pool.prototype.query as (
            this: pg.Pool,
            text: string,
          ) => Promise<pg.QueryResult>;
          const { rows } = await direct.call(
            replica.pool,
            'SELECT pg_last_wal_replay_lsn()::text AS lsn',
          );
          const text = (rows[0] as { lsn: string | null }).lsn;
          if (text === null) throw new Error('not a replica (pg_last_wal_replay_lsn is null)');
          replica.replayed = parseLsn(text);
          replica.lagMs = this.lagOf(replica.replayed, now);
          if (!replica.up) logger.info({ replica: replica.name }, 'replica serving reads');
          replica.up = true;
        } catch (err) {
          if (replica.up)
            logger.warn({ replica: replica.name, err: (err as Error).message }, 'replica down');
          replica.up = false;
          replica.lagMs = Infinity;
        }
      }),
    );
  }

  /**
   * Behind by the age of the oldest primary position it has not replayed: 0 when it has all
   * of them, at most one poll more than true.
   */
  private lagOf(replayed: bigint, now: number): number {
    const missing = this.samples.find((sample) => sample.lsn > replayed);
    return missing ? now - missing.at : 0;
  }
}

let routing: ReadRouting | undefined;

export async function connectReplicas(
  primaryPool: () => pg.Pool,
  options: ReplicaOptions,
): Promise<ReadRouting | undefined> {
  if (!options.urls.length) return undefined;
  routing = new ReadRouting(primaryPool, options);
  await routing.start();
  return routing;
}

export async function disconnectReplicas(): Promise<void> {
  const current = routing;
  routing = undefined;
  await current?.stop();
}

/** The routing, when replicas are configured (for /metrics and the write marks). */
export const readRouting = (): ReadRouting | undefined => routing;

const reads = new AsyncLocalStorage<PrismaClient>();

/** Runs `work` (a query operation's execution) with its lag-tolerant reads on `client`. */
export function withReads<T>(client: PrismaClient, work: () => T): T {
  return reads.run(client, work);
}

/**
 * The client for a read that may lag behind other callers' writes (search, coverage and its
 * history, lists, usage, templates): inside a query operation, the target chosen for it
 * (src/http/read-routing.ts: a replica that has the caller's last write, or the primary);
 * anywhere else db().
 */
export function readDb(): PrismaClient {
  return reads.getStore() ?? db();
}
