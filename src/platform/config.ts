// Every setting the service reads from the environment, parsed once with typed defaults.
// A bad value stops the process with a message naming the variable (see main.ts).
import { databaseEnv, databaseSettings, type DatabaseSettings } from './config-database.js';
import { MAX_TIMER_MS, milliseconds } from './config-milliseconds.js';
import { redisCombinationProblem, redisEnv, redisTargetOf } from './config-redis.js';
import type { RedisTarget } from './config-redis.js';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { LlmProviderKind } from '../generated/prisma/enums.js';
import { DEFAULT_HEAP_GROWING_PERCENT } from './heap-growth.js';
import { DEFAULT_PRESENCE_SETTINGS, type PresenceSettings } from './presence-settings.js';
import { originOverrides, originOverridesFromEnv } from './origin-overrides.js';
import { keyringFromEnv, type Keyring } from './vault.js';
import { DEVELOPMENT_WEBHOOK_SECRET, WEBHOOK_RETRY_DELAYS_MS } from './webhook-defaults.js';
import type { TracingConfig } from './tracing.js';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** SSE_MAX_BUFFERED_BYTES's default, also what createApp uses when given none (16 MiB). */
export const DEFAULT_SSE_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** DOWNLOAD_LINK_TTL_SECONDS's default, also what createApp uses when given none (1 hour). */
export const DEFAULT_DOWNLOAD_LINK_TTL_SECONDS = 3_600;
/** TASK_MAX_LEASE_LOSSES unset: lost leases (and a step's lost runs) before a task is DEAD. */
export const DEFAULT_MAX_LEASE_LOSSES = 5;

/** A whole number of at least `min` (at most `max`), `fallback` when unset. */
const wholeNumber = (min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** LLM_PROVIDER's spellings, each the provider kind it means (the kind is the name in code). */
const LLM_PROVIDER_KINDS = {
  local: 'LOCAL',
  openai: 'OPENAI_COMPATIBLE',
  anthropic: 'ANTHROPIC',
} as const satisfies Record<string, LlmProviderKind>;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  // Loopback unless the operator opens it to the network (HOST=0.0.0.0) on purpose.
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ...databaseEnv,
  ...redisEnv,
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Read by logger.ts as it loads (before this runs); here so that a bad value is named.
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  PUBSUB_PREFIX: z.string().default('agent-growth:'),
  SSE_MAX_BUFFERED_BYTES: wholeNumber(65_536, DEFAULT_SSE_MAX_BUFFERED_BYTES),
  SHUTDOWN_TIMEOUT_MS: milliseconds(1, 10_000),
  HEAP_GROWING_PERCENT: wholeNumber(0, DEFAULT_HEAP_GROWING_PERCENT, 1_000),
  LOAD_DEMO_DATA: booleanFromEnv.optional(),
  // Unset: sized to the machine (defaultTaskEngineSizes).
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_024).optional(),
  TASK_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).optional(),
  TASK_MAX_LEASE_LOSSES: z.coerce.number().int().min(1).max(100).default(DEFAULT_MAX_LEASE_LOSSES),
  TASK_MAX_POSTPONEMENTS: z.coerce.number().int().min(1).max(1_000).default(30),
  TASK_LEASE_MS: milliseconds(500, 10_000),
  TASK_HEARTBEAT_MS: milliseconds(100, 1_000),
  TASK_POLL_MS: milliseconds(50, 1_000),
  TASK_END_HOLD_MS: z.coerce.number().int().min(0).max(1_000).default(3),
  TASK_BACKOFF_BASE_MS: milliseconds(1, 1_000),
  TASK_BACKOFF_MAX_MS: milliseconds(1, 300_000),
  TASK_RETENTION_HOURS: z.coerce.number().positive().default(24),
  TASK_RETENTION_FAILED_HOURS: z.coerce
    .number()
    .positive()
    .default(7 * 24),
  TASK_RETENTION_DEAD_HOURS: z.coerce
    .number()
    .positive()
    .default(30 * 24),
  HISTORY_RETENTION_DAYS: z.coerce.number().positive().default(90),
  // The newest artifacts kept per topic; 0: every one.
  ARTIFACT_RETENTION_COUNT: count(20),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_ followed by base64 (Standard Webhooks)')
    .optional(),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: booleanFromEnv.optional(),
  WEBHOOK_TIMEOUT_MS: milliseconds(1, 10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  WEBHOOK_RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be milliseconds separated by commas')
    .refine(
      (delays) => delays.split(',').every((delay) => Number(delay) <= MAX_TIMER_MS),
      `each delay must be at most ${MAX_TIMER_MS} ms`,
    )
    .optional(),
  WEBHOOK_RETENTION_DAYS: z.coerce.number().positive().default(30),
  PLUGIN_ORIGIN_OVERRIDES: originOverridesFromEnv,
  LLM_PROVIDER: z.enum(['local', 'openai', 'anthropic']).default('local'),
  LLM_BASE_URL: z.string().url().optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_PLAN_BUDGET_MS: milliseconds(1, 2_000),
  LLM_ATTEMPT_TIMEOUT_MS: milliseconds(1, 30_000),
  LLM_INPUT_PRICE_PER_MTOK: z.coerce.number().min(0).default(0),
  LLM_OUTPUT_PRICE_PER_MTOK: z.coerce.number().min(0).default(0),
  KEY_VAULT_MASTER_KEYS: z.string().optional().transform(keyringFromEnv),
  PLAN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  WORKFLOW_MAX_STEPS: z.coerce.number().int().min(1).max(100_000).default(1_000),
  WORKFLOW_MAX_REPLANS: z.coerce.number().int().min(0).max(100).default(2),
  WORKFLOW_MAX_PARALLEL_STEPS: z.coerce.number().int().min(1).max(1_000).default(16),
  WORKFLOW_RECONCILE_MS: milliseconds(100, 5_000),
  AUTO_JOIN_DEFAULT_TEAM: booleanFromEnv.default(true),
  RESPONSE_CACHE: booleanFromEnv.default(false),
  RESPONSE_CACHE_TTL_MS: milliseconds(1, 60_000),
  RESPONSE_CACHE_TTL_PER_TYPE: z
    .string()
    .regex(
      /^\s*(\w+(\.\w+)?=\d+\s*(,\s*\w+(\.\w+)?=\d+\s*)*)?$/,
      'must be Type=ms or Type.field=ms, comma-separated',
    )
    .optional(),
  // docs/operations.md "Rate limits": per key (and per client IP without a key); 0: no limits.
  RATE_LIMIT_PER_MINUTE: count(60),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(120),
  // Every key of a team together; 0: no team bucket.
  RATE_LIMIT_TEAM_PER_MINUTE: count(600),
  RATE_LIMIT_TEAM_BURST: z.coerce.number().int().min(1).default(1_200),
  MAX_OPEN_SUBSCRIPTIONS_PER_KEY: count(100),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  TRUSTED_DOCUMENTS_ONLY: booleanFromEnv.default(false),
  TRUSTED_DOCUMENTS_MANIFEST: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s):// URL')
    .optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  DOWNLOAD_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // At most a week: a link outlives its page by this much.
  DOWNLOAD_LINK_TTL_SECONDS: wholeNumber(1, DEFAULT_DOWNLOAD_LINK_TTL_SECONDS, 7 * 24 * 3_600),
  PRESENCE_REFRESH_MS: milliseconds(50, DEFAULT_PRESENCE_SETTINGS.refreshMs),
  PRESENCE_TTL_MS: milliseconds(100, DEFAULT_PRESENCE_SETTINGS.ttlMs),
});

export type Role = 'all' | 'api' | 'worker';

export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  role: Role;
  host: string;
  port: number;
  /** ROLE=worker: where /health, /ready and /metrics are served (unset: nowhere; 0: any free port). */
  workerHttpPort: number | undefined;
  /** Unset: the embedded PostgreSQL under dataDir is started (the newcomer default). */
  databaseUrl: string | undefined;
  database: DatabaseSettings;
  /** REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS; unset: pub/sub stays inside this process. */
  redis: RedisTarget | undefined;
  adminApiKey: string | undefined;
  logLevel: string;
  dataDir: string;
  pubsubPrefix: string;
  shutdownTimeoutMs: number;
  /** An event stream whose client reads nothing while this much piles up is closed (it resumes with afterSequence). */
  sseMaxBufferedBytes: number;
  /** V8's old-generation growth between full collections, in percent (0: V8's own). */
  heapGrowingPercent: number;
  /** Load the demo data on an empty database; defaults to on for the embedded database only. */
  loadDemoData: boolean;
  tasks: TaskEngineConfig;
  /** A user's first key makes them a MEMBER of the `default` team (what the operator makes). */
  autoJoinDefaultTeam: boolean;
  webhooks: {
    /** `whsec_<base64>` (WEBHOOK_SECRET): signs what goes to raw webhook URLs. */
    secret: string;
    /** Development only: http and private, loopback and link-local targets allowed. */
    allowPrivateTargets: boolean;
    timeoutMs: number;
    /** Attempts per message before it is given up (DEAD); WEBHOOK_MAX_ATTEMPTS. */
    maxAttempts: number;
    /** The wait before each retry, the last repeating (WEBHOOK_RETRY_DELAYS_MS). */
    retryDelaysMs: readonly number[];
    /** Messages and their attempts are kept this long (WEBHOOK_RETENTION_DAYS). */
    retentionDays: number;
    /** PLUGIN_ORIGIN_OVERRIDES (outside production): plugins' origins → local stand-ins. */
    pluginOriginOverrides?: Readonly<Record<string, string>>;
  };
  /** The LLM gateway: the `env` deployment (LLM_*), the key vault, where base URLs may point. */
  llm: LlmConfig;
  /** Planning topics: the LLM planner's budget and the plan rate limit. */
  topics: TopicsConfig;
  responseCache: ResponseCacheConfig;
  /** Token buckets per key, team and client address, and the open-subscription cap. */
  rateLimits: RateLimitConfig;
  /** TRUSTED_DOCUMENTS_ONLY, and the manifest (hash → document) registered at start. */
  trustedDocuments: { only: boolean; manifestPath: string | undefined };
  /** OTLP/HTTP traces to OTEL_EXPORTER_OTLP_ENDPOINT (unset: no tracing at all). */
  tracing: TracingConfig;
  workflows: WorkflowConfig;
  presence: PresenceSettings;
  /** Signed report links: DOWNLOAD_LINK_SECRET (unset outside production: one in DATA_DIR), their TTL. */
  downloadLinks: { secret: string | undefined; ttlSeconds: number };
}

/** The query response cache, shared by the API processes through Redis. */
export interface ResponseCacheConfig {
  /** RESPONSE_CACHE (default off); needs Redis. */
  enabled: boolean;
  /** A response's TTL when no type in it says less. */
  ttlMs: number;
  /** RESPONSE_CACHE_TTL_PER_TYPE: `Type` or `Type.field` → ms (0: never cached), over the defaults. */
  ttlPerCoordinate: Record<string, number>;
}

/** `Type=ms,Type.field=ms` (checked by the schema above). */
function ttlOverrides(text: string | undefined): Record<string, number> {
  const pairs = (text ?? '').split(',').filter((pair) => pair.trim());
  return Object.fromEntries(
    pairs.map((pair) => {
      const [coordinate, ms] = pair.split('=');
      return [coordinate!.trim(), Number(ms)];
    }),
  );
}

/** The LLM gateway's settings: LLM_* make the operator's `env` deployment. */
export interface LlmConfig {
  /** LOCAL (the default): deterministic, no network. Otherwise the LLM plans and writes. */
  provider: LlmProviderKind;
  /** Any OpenAI-compatible endpoint (or an Anthropic-compatible one); unset: the vendor's. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  /** LLM_ATTEMPT_TIMEOUT_MS: an attempt silent this long goes to the route's next deployment. */
  attemptTimeoutMs: number;
  /** USD per million tokens of the `env` deployment, for llm_cost_usd_total (0: unknown). */
  prices: { inputPerMillionTokens: number; outputPerMillionTokens: number };
  /** KEY_VAULT_MASTER_KEYS; unset outside production: a development keyring in DATA_DIR. */
  keyring: Keyring | undefined;
  /** Outside production a base URL may be http and private. */
  allowPrivateBaseUrls: boolean;
}

export interface TopicsConfig {
  /** Past this the LLM planner is abandoned for the local one. */
  planBudgetMs: number;
  planRateLimitPerMinute: number;
}

export interface BucketRate {
  perMinute: number;
  burst: number;
}

export interface RateLimitConfig {
  /** Each API key's bucket, and each client address's for requests without a valid key; null: off. */
  key: BucketRate | null;
  /** One bucket for all keys of a team; null: none. */
  team: BucketRate | null;
  /** Subscriptions one key may hold open at once on one API process (0: no cap). */
  maxOpenSubscriptionsPerKey: number;
  /** Proxies in front of the API whose X-Forwarded-For entries are trusted (0: the socket's address). */
  trustedProxyHops: number;
}

/** Plan size, replans, parallelism, the reconciler's period, the token price. */
export interface WorkflowConfig {
  maxSteps: number;
  maxReplans: number;
  maxParallelSteps: number;
  reconcileMs: number;
  /** The mean of the LLM's input and output prices: estimates count tokens, not their kind. */
  pricePerMillionTokens: number;
}

export interface TaskEngineConfig {
  /** Tasks one worker process runs at once. */
  concurrency: number;
  /**
   * Tasks claimed in one statement, at most: the worker's local queue holds up to this many
   * claimed tasks waiting for a slot, and claims again when it is down to half.
   */
  batchSize: number;
  /** Lost leases (its worker died while running it) a task survives; the next one makes it DEAD. */
  maxLeaseLosses: number;
  /** Runs a task may end asking to run later (RetryLaterError), not spending attempts; then DEAD. */
  maxPostponements: number;
  /** A claimed task is another worker's to take over this long after its last heartbeat. */
  leaseMs: number;
  heartbeatMs: number;
  /** Idle workers look for work (and expired leases) this often, Redis or not. */
  pollMs: number;
  /** With the queue dry, an end waits this long for a claim to be written with (0: never). */
  endHoldMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** COMPLETED and CANCELLED tasks are deleted this long after they ended. */
  retentionMs: number;
  /** FAILED and TIMEOUT ones after this (longer by default: someone may look into them). */
  failedRetentionMs: number;
  /** DEAD ones (retries exhausted) after this. */
  deadRetentionMs: number;
  historyRetentionDays: number;
  /** The newest artifacts kept per topic, older ones deleted by the clean-up (0: all kept). */
  artifactRetentionCount: number;
}

export class ConfigError extends Error {}
type Env = z.infer<typeof envSchema>;

/** Rules between variables, which the schema of each one cannot say. */
function combinationProblem(e: Env): string | undefined {
  if (e.NODE_ENV === 'production' && !e.WEBHOOK_SECRET)
    return 'WEBHOOK_SECRET: required with NODE_ENV=production';
  if (e.LLM_PROVIDER === 'anthropic' && !e.LLM_API_KEY)
    return 'LLM_API_KEY: required with LLM_PROVIDER=anthropic';
  if (e.LLM_PROVIDER === 'openai' && !e.LLM_API_KEY && !e.LLM_BASE_URL)
    return 'LLM_API_KEY: required with LLM_PROVIDER=openai (or set LLM_BASE_URL for a local OpenAI-compatible server)';
  if (e.LLM_PROVIDER !== 'local' && !e.LLM_MODEL)
    return `LLM_MODEL: required with LLM_PROVIDER=${e.LLM_PROVIDER}`;
  if (e.WORKER_HTTP_PORT !== undefined && e.ROLE !== 'worker') {
    return "WORKER_HTTP_PORT: only with ROLE=worker (with ROLE=all the worker's metrics are on the API's /metrics)";
  }
  const redisProblem = redisCombinationProblem(e, { responseCache: e.RESPONSE_CACHE });
  if (redisProblem) return redisProblem;
  if (e.NODE_ENV === 'production' && !e.DOWNLOAD_LINK_SECRET)
    return 'DOWNLOAD_LINK_SECRET: required with NODE_ENV=production (at least 32 random characters)';
  if (e.NODE_ENV === 'production' && !e.KEY_VAULT_MASTER_KEYS)
    return 'KEY_VAULT_MASTER_KEYS: required with NODE_ENV=production (v1:<base64 of 32 bytes>)';
  if (databaseSettings(e).pooler === 'pgbouncer' && !e.DIRECT_DATABASE_URL)
    return (
      'DIRECT_DATABASE_URL: required when DATABASE_URL is PgBouncer (migrations need a session; ' +
      'DATABASE_POOLER=none if the pooler keeps sessions)'
    );
  if (e.PRESENCE_TTL_MS <= e.PRESENCE_REFRESH_MS) return 'PRESENCE_TTL_MS: must exceed its refresh';
  if (e.NODE_ENV === 'production' && e.PLUGIN_ORIGIN_OVERRIDES)
    return 'PLUGIN_ORIGIN_OVERRIDES: not with NODE_ENV=production (plugins reach the hosts they name)';
  if (e.ROLE === 'worker' && !e.DATABASE_URL)
    return 'DATABASE_URL: required with ROLE=worker (the embedded database serves ROLE=all only)';
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const problem = combinationProblem(e);
  if (problem) throw new ConfigError(`Invalid configuration:\n  ${problem}`);
  return {
    nodeEnv: e.NODE_ENV,
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    workerHttpPort: e.WORKER_HTTP_PORT,
    databaseUrl: e.DATABASE_URL,
    database: databaseSettings(e),
    redis: redisTargetOf(e),
    adminApiKey: e.ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.DATA_DIR),
    pubsubPrefix: e.PUBSUB_PREFIX,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    sseMaxBufferedBytes: e.SSE_MAX_BUFFERED_BYTES,
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    loadDemoData: e.LOAD_DEMO_DATA ?? !e.DATABASE_URL,
    tasks: taskEngineConfig(e),
    autoJoinDefaultTeam: e.AUTO_JOIN_DEFAULT_TEAM,
    webhooks: {
      secret: e.WEBHOOK_SECRET ?? DEVELOPMENT_WEBHOOK_SECRET,
      // Outside development only https to public addresses.
      allowPrivateTargets: e.NODE_ENV !== 'production' && (e.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? true),
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryDelaysMs: e.WEBHOOK_RETRY_DELAYS_MS?.split(',').map(Number) ?? WEBHOOK_RETRY_DELAYS_MS,
      retentionDays: e.WEBHOOK_RETENTION_DAYS,
      pluginOriginOverrides: originOverrides(e.PLUGIN_ORIGIN_OVERRIDES),
    },
    llm: llmConfig(e),
    topics: {
      planBudgetMs: e.LLM_PLAN_BUDGET_MS,
      planRateLimitPerMinute: e.PLAN_RATE_LIMIT_PER_MINUTE,
    },
    workflows: workflowConfig(e),
    responseCache: {
      enabled: e.RESPONSE_CACHE,
      ttlMs: e.RESPONSE_CACHE_TTL_MS,
      ttlPerCoordinate: ttlOverrides(e.RESPONSE_CACHE_TTL_PER_TYPE),
    },
    rateLimits: rateLimitConfig(e),
    trustedDocuments: {
      only: e.TRUSTED_DOCUMENTS_ONLY,
      manifestPath: e.TRUSTED_DOCUMENTS_MANIFEST && path.resolve(e.TRUSTED_DOCUMENTS_MANIFEST),
    },
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    downloadLinks: { secret: e.DOWNLOAD_LINK_SECRET, ttlSeconds: e.DOWNLOAD_LINK_TTL_SECONDS },
    presence: { refreshMs: e.PRESENCE_REFRESH_MS, ttlMs: e.PRESENCE_TTL_MS },
  };
}

function llmConfig(e: Env): LlmConfig {
  return {
    provider: LLM_PROVIDER_KINDS[e.LLM_PROVIDER],
    baseUrl: e.LLM_BASE_URL,
    apiKey: e.LLM_API_KEY,
    model: e.LLM_MODEL,
    attemptTimeoutMs: e.LLM_ATTEMPT_TIMEOUT_MS,
    prices: {
      inputPerMillionTokens: e.LLM_INPUT_PRICE_PER_MTOK,
      outputPerMillionTokens: e.LLM_OUTPUT_PRICE_PER_MTOK,
    },
    keyring: e.KEY_VAULT_MASTER_KEYS,
    allowPrivateBaseUrls: e.NODE_ENV !== 'production',
  };
}

function rateLimitConfig(e: Env): RateLimitConfig {
  const on = e.RATE_LIMIT_PER_MINUTE > 0;
  return {
    key: on ? { perMinute: e.RATE_LIMIT_PER_MINUTE, burst: e.RATE_LIMIT_BURST } : null,
    team:
      on && e.RATE_LIMIT_TEAM_PER_MINUTE > 0
        ? { perMinute: e.RATE_LIMIT_TEAM_PER_MINUTE, burst: e.RATE_LIMIT_TEAM_BURST }
        : null,
    maxOpenSubscriptionsPerKey: e.MAX_OPEN_SUBSCRIPTIONS_PER_KEY,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
  };
}

function workflowConfig(e: Env): WorkflowConfig {
  return {
    maxSteps: e.WORKFLOW_MAX_STEPS,
    maxReplans: e.WORKFLOW_MAX_REPLANS,
    maxParallelSteps: e.WORKFLOW_MAX_PARALLEL_STEPS,
    reconcileMs: e.WORKFLOW_RECONCILE_MS,
    pricePerMillionTokens: (e.LLM_INPUT_PRICE_PER_MTOK + e.LLM_OUTPUT_PRICE_PER_MTOK) / 2,
  };
}

/**
 * 32 rounds of the slots, at most 2,000 tasks: a drain of no-op tasks ran 10-16 % faster at 16
 * rounds than at 4, with less PostgreSQL CPU per task (fewer statements and commits), and, once
 * a turn's claim was a statement of its own, 5-7 % faster again at 32 (2 CPUs: 1,024 against
 * 512), little past it (bench/README.md); long tasks are held back by the handlers' durations
 * (src/workers/turns.ts), not by the batch.
 */
const claimBatchFor = (concurrency: number) => Math.min(32 * concurrency, 2_000);

/**
 * Slots and claim batches sized to the machine: tasks mostly wait on I/O (the database, an
 * LLM, a webhook receiver), so a process runs many per core; a batch holds many rounds of
 * its slots (claimBatchFor), so that a busy worker claims and records in few statements.
 */
export function defaultTaskEngineSizes(cpus = availableParallelism()): {
  concurrency: number;
  batchSize: number;
} {
  const concurrency = Math.max(8, 16 * cpus);
  return { concurrency, batchSize: claimBatchFor(concurrency) };
}

function taskEngineConfig(e: Env): TaskEngineConfig {
  const sizes = defaultTaskEngineSizes();
  const concurrency = e.WORKER_CONCURRENCY ?? sizes.concurrency;
  return {
    concurrency,
    batchSize: e.TASK_BATCH_SIZE ?? claimBatchFor(concurrency),
    maxLeaseLosses: e.TASK_MAX_LEASE_LOSSES,
    maxPostponements: e.TASK_MAX_POSTPONEMENTS,
    leaseMs: e.TASK_LEASE_MS,
    heartbeatMs: Math.min(e.TASK_HEARTBEAT_MS, Math.floor(e.TASK_LEASE_MS / 3)),
    pollMs: e.TASK_POLL_MS,
    endHoldMs: e.TASK_END_HOLD_MS,
    backoffBaseMs: e.TASK_BACKOFF_BASE_MS,
    backoffMaxMs: e.TASK_BACKOFF_MAX_MS,
    retentionMs: e.TASK_RETENTION_HOURS * 3_600_000,
    failedRetentionMs: e.TASK_RETENTION_FAILED_HOURS * 3_600_000,
    deadRetentionMs: e.TASK_RETENTION_DEAD_HOURS * 3_600_000,
    historyRetentionDays: e.HISTORY_RETENTION_DAYS,
    artifactRetentionCount: e.ARTIFACT_RETENTION_COUNT,
  };
}

/** For the process entry: the configuration, or its one-line error and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
