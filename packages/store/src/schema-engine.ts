import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

/**
 * Prisma's schema engine compiled to WebAssembly, driven through a driver adapter. The
 * native engine the Prisma CLI downloads is not needed: migrations run anywhere Node runs.
 * `@prisma/internals` has a loader for it, but it reads the .wasm from a folder that
 * package does not ship, so the module is instantiated here from the engine's own package.
 */
type EngineRuntime = typeof import('@prisma/schema-engine-wasm/schema_engine_bg') & {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
};

/** The WebAssembly global, typed by hand: its types live in lib.dom, which a server package does not load. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let runtime: Promise<EngineRuntime> | undefined;

function loadRuntime(): Promise<EngineRuntime> {
  runtime ??= (async () => {
    const glueUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(glueUrl)) as EngineRuntime;
    const bytes = await readFile(path.join(path.dirname(fileURLToPath(glueUrl)), 'schema_engine_bg.wasm'));
    const instance = new Instance(new Module(bytes), { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return runtime;
}

export interface EngineError {
  readonly code?: string;
  readonly message?: string;
}

/** Runs `work` with a schema engine connected through `factory`, and frees it after. */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  schema: { readonly path: string; readonly content: string },
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const glue = await loadRuntime();
  // The engine does not close the connections it opens; without this a SQLite file stays
  // locked and a PostgreSQL pool keeps the process alive.
  const opened: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => remember(await factory.connect()),
    connectToShadowDb: async () => remember(await factory.connectToShadowDb()),
  };
  function remember(adapter: SqlDriverAdapter): SqlDriverAdapter {
    opened.push(adapter);
    return adapter.provider === 'sqlite' ? acceptingScripts(adapter) : adapter;
  }
  try {
    const engine = await glue.SchemaEngine.new(
      { datamodels: [[schema.path, schema.content]] },
      () => {},
      bindMigrationAwareSqlAdapterFactory(tracked),
    );
    try {
      return await work(engine);
    } finally {
      engine.free();
    }
  } catch (error) {
    throw engineError(error);
  } finally {
    await Promise.allSettled(opened.map((adapter) => adapter.dispose()));
  }
}

/**
 * Replaying migrations on a shadow database (for a diff) sends each whole migration file
 * through `executeRaw`, which better-sqlite3 refuses when it holds more than one statement;
 * such a file goes through `executeScript` instead.
 */
function acceptingScripts(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw: SqlDriverAdapter['executeRaw'] = async (query) => {
    try {
      return await adapter.executeRaw(query);
    } catch (error) {
      if (query.args.length > 0 || !(error instanceof RangeError) || !/more than one statement/.test(error.message)) throw error;
      await adapter.executeScript(query.sql);
      return 0;
    }
  };
  return new Proxy(adapter, {
    get(target, property) {
      if (property === 'executeRaw') return executeRaw;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The engine rejects with plain objects (`{ code, message }`); callers get an Error. */
function engineError(error: unknown): Error {
  if (error instanceof Error) return error;
  const { code, message } = (error ?? {}) as EngineError;
  return new Error(`schema engine${code ? ` ${code}` : ''}: ${message ?? String(error)}`, { cause: error });
}
