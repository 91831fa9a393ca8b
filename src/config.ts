// Every setting the service reads from the environment, parsed once with typed defaults.
// A bad value stops the process with a message naming the variable (see main.ts).
import path from 'node:path';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  PUBSUB_PREFIX: z.string().default('agent-growth:'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  LOAD_DEMO_DATA: booleanFromEnv.optional(),
});

export type Role = 'all' | 'api' | 'worker';

export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  role: Role;
  host: string;
  port: number;
  /** Unset: the embedded PostgreSQL under dataDir is started (the newcomer default). */
  databaseUrl: string | undefined;
  /** Unset: pub/sub stays inside this process. */
  redisUrl: string | undefined;
  adminApiKey: string | undefined;
  logLevel: string;
  dataDir: string;
  pubsubPrefix: string;
  shutdownTimeoutMs: number;
  /** Load the demo data on an empty database; defaults to on for the embedded database only. */
  loadDemoData: boolean;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  if (e.ROLE === 'worker' && !e.DATABASE_URL) {
    throw new ConfigError('Invalid configuration:\n  DATABASE_URL: required with ROLE=worker (the embedded database serves ROLE=all only)');
  }
  return {
    nodeEnv: e.NODE_ENV,
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    adminApiKey: e.ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.DATA_DIR),
    pubsubPrefix: e.PUBSUB_PREFIX,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    loadDemoData: e.LOAD_DEMO_DATA ?? !e.DATABASE_URL,
  };
}
