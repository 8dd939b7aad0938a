import { type ApiDependencies, appRouter, createContextFactory } from '@mailroute/api';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { MailrouteConfig } from '../config/schema.js';
import { registerRateLimit } from './rate-limit.js';
import type { Readiness } from './readiness.js';

export interface HttpAppOptions {
  readonly settings: MailrouteConfig['server'];
  readonly logger: Logger;
  readonly api: ApiDependencies;
  readonly readiness: () => Promise<Readiness>;
  readonly role: string;
}

type AppRouter = typeof appRouter;

/** Fastify with tRPC at /trpc, /healthz and /readyz, a body limit and per-key rate limits. */
export async function createHttpApp({ settings, logger, api, readiness, role }: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: settings.bodyLimitBytes,
    trustProxy: settings.trustProxy,
    // One line per request at info would cost more than the request; see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    // tRPC batches carry procedure names in the path.
    routerOptions: { maxParamLength: 1_000 },
  });

  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
    if (!logger.isLevelEnabled(level)) return;
    request.log[level](
      { method: request.method, path: request.url.split('?')[0], status, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        error: 'Payload Too Large',
        message: `request body exceeds the limit of ${settings.bodyLimitBytes} bytes (server.bodyLimitBytes)`,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({
      statusCode: status,
      code: error.code ?? 'INTERNAL_SERVER_ERROR',
      error: status >= 500 ? 'Internal Server Error' : (error.name ?? 'Error'),
      message: status >= 500 ? 'internal error' : error.message,
    });
  });

  await registerRateLimit(app, settings.rateLimit);

  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok', role }));
  app.get('/readyz', { config: { rateLimit: false } }, async (_request, reply) => {
    const state = await readiness();
    return state.ready ? { status: 'ready', role } : reply.code(503).send({ status: 'not ready', role, reason: state.reason });
  });

  const createContext = createContextFactory(api);
  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    createContext: ({ req }) => createContext({ authorization: req.headers.authorization }),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'api procedure failed');
    },
  };
  await app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions });
  return app;
}
