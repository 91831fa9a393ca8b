// Prisma's schema engine compiled to WebAssembly, driven through @prisma/adapter-pg.
// Why by hand: the Prisma 7 CLI downloads a native engine on every command and this
// service must migrate with no network but the npm registry. The wasm package is an
// internal API, so its version is pinned exactly in package.json.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';

type SchemaEngine = bindings.SchemaEngine;

let wasmReady: Promise<void> | undefined;

/** The package imports its .wasm as an ES module, which Node 20 cannot; instantiate it here. */
function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(bgPath.replace(/\.js$/, '.wasm'));
    const imports = { './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports };
    const { instance } = await WebAssembly.instantiate(bytes, imports);
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmReady;
}

/** Discrete connection fields: adapter-pg's shadow database ignores `database` next to a connection string. */
export function poolConfigFromUrl(url: string): pg.PoolConfig {
  const u = new URL(url);
  const socketHost = u.searchParams.get('host');
  return {
    host: socketHost ?? (decodeURIComponent(u.hostname) || 'localhost'),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1)) || undefined,
    max: 2,
  };
}

/**
 * adapter-pg's factory with a shadow database that works: it connects to the shadow
 * database (not the real one) and closes its pool before dropping it. The engine calls
 * these methods unbound, so they are closures over the config, not class methods.
 */
function migrationAdapterFactory(poolConfig: pg.PoolConfig, opened: PgAdapter[]) {
  const base = new PrismaPg(poolConfig);
  return {
    provider: base.provider as 'postgres',
    adapterName: base.adapterName,
    connect: async () => {
      const adapter = fixAdapter(await base.connect());
      opened.push(adapter);
      return adapter;
    },
    connectToShadowDb: async () => {
      const database = `prisma_migrate_shadow_db_${crypto.randomUUID().replaceAll('-', '')}`;
      await runAdminStatement(poolConfig, `CREATE DATABASE "${database}"`);
      const adapter = fixAdapter(await new PrismaPg({ ...poolConfig, database }).connect());
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await runAdminStatement(poolConfig, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      };
      return adapter;
    },
  };
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
let charPatched = false;

/**
 * adapter-pg rejects PostgreSQL's one-byte `"char"` type (pg_catalog columns such as
 * contype), which the engine reads when it describes a schema. pg already parses those
 * values as strings, so they are reported as text. Patched on the shared queryable
 * prototype, so transactions opened from the adapter get it too.
 */
function readCharColumnsAsText(adapter: object): void {
  if (charPatched) return;
  let proto = Object.getPrototypeOf(adapter);
  while (proto && !Object.hasOwn(proto, 'performIO')) proto = Object.getPrototypeOf(proto);
  if (!proto)
    throw new Error(
      '@prisma/adapter-pg changed: performIO not found (update src/platform/migrations/schema-engine.ts)',
    );
  const performIO = proto.performIO as (query: unknown) => Promise<pg.QueryResult>;
  proto.performIO = async function (this: unknown, query: unknown) {
    const result = await performIO.call(this, query);
    for (const field of result.fields)
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    return result;
  };
  charPatched = true;
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * The adapter as the engine needs it: `"char"` columns readable, and migration scripts
 * sent whole. adapter-pg's executeScript splits a script on every `;`, which breaks
 * dollar-quoted function bodies; one simple-protocol query runs the script as one
 * implicit transaction instead, as Prisma's native engine does.
 */
function fixAdapter(adapter: PgAdapter): PgAdapter {
  readCharColumnsAsText(adapter);
  const mapError = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await (adapter.underlyingDriver() as pg.Pool).query(script);
    } catch (error) {
      mapError(error);
    }
  };
  return adapter;
}

async function runAdminStatement(poolConfig: pg.PoolConfig, sql: string): Promise<void> {
  const client = new pg.Client(poolConfig);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function withSchemaEngine<T>(
  databaseUrl: string,
  datamodel: { path: string; content: string } | undefined,
  run: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadWasm();
  // The engine expects the Result-wrapped adapter the Prisma CLI builds the same way.
  // The engine does not close the pools it opens: they are closed here, so the database
  // can be dropped or used as a template right after.
  const opened: PgAdapter[] = [];
  const factory = bindMigrationAwareSqlAdapterFactory(
    migrationAdapterFactory(poolConfigFromUrl(databaseUrl), opened),
  );
  const logs: string[] = [];
  const engine = await bindings.SchemaEngine.new(
    { datamodels: datamodel ? [[datamodel.path, datamodel.content]] : undefined },
    (line: string) => logs.push(line),
    factory,
  );
  try {
    return await run(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((adapter) => adapter.dispose()));
  }
}
