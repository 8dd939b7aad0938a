import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiKeyScope, type CreatedApiKey, createStore, type MailStore } from '@mailroute/store';
import { createPostgresDatabase, createSqliteFile } from '@mailroute/store/testing';
import type { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { type ApiDependencies, apiResponseMeta, createContextFactory } from '../context.js';
import { appRouter } from '../router.js';
import { CSRF_HEADER } from '../session-cookie.js';

export interface TestApiServer {
  /** The tRPC endpoint, `http://127.0.0.1:<port>/trpc`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The router on node:http at 127.0.0.1, mounted the way the real host mounts it: at /trpc,
 * with the Authorization header as the request info. Tests of the api and the client use it.
 */
export async function startApiServer(
  deps: ApiDependencies,
  options: { maxBodySize?: number; onError?: (error: TRPCError) => void } = {},
): Promise<TestApiServer> {
  const createContext = createContextFactory(deps);
  const handler = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: options.maxBodySize ?? 16 * 1024 * 1024,
    createContext: ({ req }) =>
      createContext({
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        csrf: req.headers[CSRF_HEADER] !== undefined,
        secure: req.headers['x-forwarded-proto'] === 'https',
      }),
    responseMeta: apiResponseMeta,
    ...(options.onError ? { onError: ({ error }: { error: TRPCError }) => options.onError?.(error) } : {}),
  });
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/trpc/')) {
      handler(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/trpc`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface TestApi {
  readonly url: string;
  readonly store: MailStore;
  /** Keys of two tenants, `hotel` and `spa`, one per scope, and an operator of the default tenant. */
  readonly keys: Record<'hotelAdmin' | 'hotelSend' | 'hotelRead' | 'spaAdmin' | 'spaSend' | 'spaRead' | 'operator', CreatedApiKey>;
  /** How often the api asked the worker to wake. */
  wakes(): number;
  close(): Promise<void>;
}

/** A store on a fresh SQLite file (or PostgreSQL database), the router on 127.0.0.1, and API keys to call it with. */
export async function startTestApi(
  options: Partial<Pick<ApiDependencies, 'providerNames' | 'liveProviders' | 'now' | 'processStaleAfterMs' | 'sessionTtlMs'>> & {
    maxBodySize?: number;
    dialect?: 'sqlite' | 'postgres';
  } = {},
): Promise<TestApi> {
  const { maxBodySize, dialect = 'sqlite', ...deps } = options;
  const file = dialect === 'postgres' ? await createPostgresDatabase() : createSqliteFile();
  const store = await createStore({ url: file.url, autoMigrate: true });
  let wakes = 0;
  const server = await startApiServer(
    { store, providerNames: () => ['sendgrid', 'ses', 'smtp'], ...deps, wake: () => wakes++ },
    maxBodySize === undefined ? {} : { maxBodySize },
  );
  const key = (name: string, tenantId: string, scope: ApiKeyScope) => store.createApiKey({ name, scopes: [scope], tenantId });
  const keys = {
    hotelAdmin: await key('hotel admin', 'hotel', 'admin'),
    hotelSend: await key('hotel app', 'hotel', 'send'),
    hotelRead: await key('hotel dashboard', 'hotel', 'read'),
    spaAdmin: await key('spa admin', 'spa', 'admin'),
    spaSend: await key('spa app', 'spa', 'send'),
    spaRead: await key('spa dashboard', 'spa', 'read'),
    operator: await key('operator', 'default', 'operator'),
  };
  // Tenants other than the default one send from listed senders only; `mail()` sends as desk@hotel.example.
  await store.setSenders('hotel', ['hotel.example']);
  await store.setSenders('spa', ['hotel.example']);
  return {
    url: server.url,
    store,
    keys,
    wakes: () => wakes,
    async close() {
      await server.close();
      await store.close();
      await file.drop();
    },
  };
}
