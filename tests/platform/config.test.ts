import { describe, expect, it } from 'vitest';
import { ConfigError, defaultTaskEngineSizes, loadConfig } from '../../src/platform/config.js';

describe('config', () => {
  it('has working defaults: embedded database, in-process pub/sub, ROLE=all on 4000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      role: 'all',
      port: 4000,
      databaseUrl: undefined,
      redis: undefined,
      loadDemoData: true,
      heapGrowingPercent: 400,
    });
  });

  it("sizes a worker's slots and claim batches to the machine, unless told", () => {
    expect(defaultTaskEngineSizes(1)).toEqual({ concurrency: 16, batchSize: 512 });
    expect(defaultTaskEngineSizes(2)).toEqual({ concurrency: 32, batchSize: 1_024 });
    expect(defaultTaskEngineSizes(8)).toEqual({ concurrency: 128, batchSize: 2_000 });
    expect(loadConfig({}).tasks).toMatchObject({
      ...defaultTaskEngineSizes(),
      maxLeaseLosses: 5,
      maxPostponements: 30,
    });
    expect(loadConfig({ WORKER_CONCURRENCY: '10' }).tasks).toMatchObject({
      concurrency: 10,
      batchSize: 320,
    });
    expect(
      loadConfig({
        WORKER_CONCURRENCY: '10',
        TASK_BATCH_SIZE: '7',
        TASK_MAX_LEASE_LOSSES: '1',
        TASK_MAX_POSTPONEMENTS: '2',
      }).tasks,
    ).toMatchObject({ concurrency: 10, batchSize: 7, maxLeaseLosses: 1, maxPostponements: 2 });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ROLE: 'api',
      PORT: '8080',
      DATABASE_URL: 'postgresql://u@db:5432/app',
      REDIS_URL: 'redis://cache:6379',
      ADMIN_API_KEY: 'a-long-enough-admin-key',
      LOG_LEVEL: 'warn',
      HEAP_GROWING_PERCENT: '0',
    });
    expect(config).toMatchObject({
      role: 'api',
      port: 8080,
      redis: { kind: 'single', url: 'redis://cache:6379' },
      logLevel: 'warn',
      loadDemoData: false,
      heapGrowingPercent: 0,
    });
  });

  it('reads a Redis Cluster or a Sentinel-managed primary instead of REDIS_URL', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,[::1]:7002' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      password: undefined,
    });
    const sentinel = loadConfig({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'main',
      REDIS_PASSWORD: 'secret',
      RESPONSE_CACHE: 'true',
    });
    expect(sentinel.redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'main',
      password: 'secret',
      sentinelPassword: undefined,
    });
    const refused = {
      REDIS_CLUSTER_NODES: 'r1',
      REDIS_SENTINELS: 's1:26379',
    };
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem({ REDIS_CLUSTER_NODES: refused.REDIS_CLUSTER_NODES })).toContain(
      'REDIS_CLUSTER_NODES: must be host:port pairs',
    );
    expect(problem({ REDIS_SENTINELS: refused.REDIS_SENTINELS })).toContain('REDIS_SENTINEL_NAME');
    expect(problem({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' })).toContain(
      'set only one of them',
    );
    expect(problem({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'x' })).toContain(
      'REDIS_PASSWORD',
    );
    expect(problem({ RESPONSE_CACHE: 'true' })).toContain('RESPONSE_CACHE: needs REDIS_URL');
  });

  it('fails with a message naming each bad variable', () => {
    const attempt = () =>
      loadConfig({
        ROLE: 'both',
        PORT: 'http',
        DATABASE_URL: 'mysql://x',
        ADMIN_API_KEY: 'short',
        HEAP_GROWING_PERCENT: '-1',
      });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of ['ROLE', 'PORT', 'DATABASE_URL', 'ADMIN_API_KEY', 'HEAP_GROWING_PERCENT'])
      expect(message).toContain(name);
  });

  it('refuses a duration longer than a timer keeps, naming it; takes the longest one', () => {
    // Node turns a longer setTimeout into 1 ms: every LLM attempt timed out at once.
    const names = [
      'LLM_ATTEMPT_TIMEOUT_MS',
      'LLM_PLAN_BUDGET_MS',
      'SHUTDOWN_TIMEOUT_MS',
      'TASK_LEASE_MS',
      'WEBHOOK_TIMEOUT_MS',
      'PRESENCE_TTL_MS',
      'DATABASE_POOL_TIMEOUT_MS',
      'DATABASE_STATEMENT_TIMEOUT_MS',
    ];
    for (const name of names) {
      for (const value of ['2147483648', '3000000000', '1e12'])
        expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(
          new RegExp(`${name}: .*2147483647`),
        );
      expect(() => loadConfig({ [name]: '2147483647' }), name).not.toThrow();
    }
    expect(loadConfig({ LLM_ATTEMPT_TIMEOUT_MS: '2147483647' }).llm.attemptTimeoutMs).toBe(
      2_147_483_647,
    );
    expect(() => loadConfig({ WEBHOOK_RETRY_DELAYS_MS: '1000,2147483648' })).toThrow(
      /WEBHOOK_RETRY_DELAYS_MS/,
    );
  });

  it('reads the trusted-documents and tracing settings: off unless set', () => {
    expect(loadConfig({})).toMatchObject({
      trustedDocuments: { only: false, manifestPath: undefined },
      tracing: { endpoint: undefined, serviceName: undefined },
    });
    const config = loadConfig({
      TRUSTED_DOCUMENTS_ONLY: 'true',
      TRUSTED_DOCUMENTS_MANIFEST: 'web/persisted-documents.json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'api-eu',
    });
    expect(config.trustedDocuments.only).toBe(true);
    expect(config.trustedDocuments.manifestPath).toMatch(/^\/.*web\/persisted-documents\.json$/);
    expect(config.tracing).toEqual({ endpoint: 'http://collector:4318', serviceName: 'api-eu' });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('reads the download-link and artifact settings, and needs the secret in production', () => {
    expect(loadConfig({})).toMatchObject({
      downloadLinks: { secret: undefined, ttlSeconds: 3_600 },
      tasks: { artifactRetentionCount: 20 },
    });
    const secret = 'a download link secret, 32 characters or more';
    expect(
      loadConfig({
        DOWNLOAD_LINK_SECRET: secret,
        DOWNLOAD_LINK_TTL_SECONDS: '600',
        ARTIFACT_RETENTION_COUNT: '0',
      }),
    ).toMatchObject({
      downloadLinks: { secret, ttlSeconds: 600 },
      tasks: { artifactRetentionCount: 0 },
    });
    expect(() => loadConfig({ DOWNLOAD_LINK_SECRET: 'short' })).toThrow(/DOWNLOAD_LINK_SECRET/);
    expect(() => loadConfig({ DOWNLOAD_LINK_TTL_SECONDS: '0' })).toThrow(
      /DOWNLOAD_LINK_TTL_SECONDS/,
    );
    expect(() => loadConfig({ ARTIFACT_RETENTION_COUNT: '-1' })).toThrow(
      /ARTIFACT_RETENTION_COUNT/,
    );
    const production = {
      NODE_ENV: 'production',
      WEBHOOK_SECRET: `whsec_${Buffer.from('a production webhook secret').toString('base64')}`,
      KEY_VAULT_MASTER_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    expect(() => loadConfig(production)).toThrow(
      /DOWNLOAD_LINK_SECRET: required with NODE_ENV=production/,
    );
    expect(loadConfig({ ...production, DOWNLOAD_LINK_SECRET: secret }).downloadLinks.secret).toBe(
      secret,
    );
  });

  it('refuses ROLE=worker without DATABASE_URL', () => {
    expect(() => loadConfig({ ROLE: 'worker' })).toThrow(/DATABASE_URL/);
  });

  it('takes WORKER_HTTP_PORT with ROLE=worker only', () => {
    expect(
      loadConfig({
        ROLE: 'worker',
        DATABASE_URL: 'postgresql://u@db/app',
        WORKER_HTTP_PORT: '9464',
      }),
    ).toMatchObject({ workerHttpPort: 9464 });
    expect(loadConfig({ ROLE: 'worker', DATABASE_URL: 'postgresql://u@db/app' })).toMatchObject({
      workerHttpPort: undefined,
    });
    expect(() => loadConfig({ WORKER_HTTP_PORT: '9464' })).toThrow(
      /WORKER_HTTP_PORT: only with ROLE=worker/,
    );
  });
});
