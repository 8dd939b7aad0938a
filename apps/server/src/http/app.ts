import {
  type ApiDependencies,
  apiResponseMeta,
  appRouter,
  CSRF_HEADER,
  createContextFactory,
  createKeyCache,
  retryAfterOf,
} from '@mailroute/api';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_WEBHOOK_BODY_LIMIT_BYTES, DEFAULT_WEBHOOK_BYTES_IN_FLIGHT, type MailrouteConfig } from '../config/schema.js';
import { registerBodyBudget } from './body-budget.js';
import { registerCallerIdentification } from './caller.js';
import { registerCors } from './cors.js';
import { registerDashboard } from './dashboard.js';
import { drainRequest, edgeCodeOf, sendEdgeError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import { registerMetricsRoute } from './metrics-route.js';
import { createMessageQuota, registerRateLimit } from './rate-limit.js';
import type { Readiness } from './readiness.js';
import { registerBodyIdleTimeout, serverTimeoutOptions } from './timeouts.js';
import { registerWebhookRoutes } from './webhooks.js';

export interface HttpAppOptions {
  readonly settings: MailrouteConfig['server'];
  readonly logger: Logger;
  readonly api: ApiDependencies;
  readonly readiness: () => Promise<Readiness>;
  readonly role: string;
  /** Serves `GET /metrics` (no API key) when given. */
  readonly metrics?: ServiceMetrics;
  /** Largest provider webhook body (`webhooks.bodyLimitBytes`). */
  readonly webhookBodyLimitBytes?: number;
  /** Serve the operator console at /dashboard/ (`dashboard.enabled`); default on. */
  readonly dashboard?: boolean;
  /** Where the console's built files are; default apps/dashboard/dist. */
  readonly dashboardDir?: string;
  /** Webhook bodies held at once (`webhooks.bodyBytesInFlight`). */
  readonly webhookBytesInFlight?: number;
}

type AppRouter = typeof appRouter;

/** Fastify with tRPC at /trpc, provider webhooks at /webhooks, /healthz and /readyz, the console at /dashboard/, body budgets, timeouts and per-key rate limits. */
export async function createHttpApp({
  settings,
  logger,
  api,
  readiness,
  role,
  metrics,
  webhookBodyLimitBytes = DEFAULT_WEBHOOK_BODY_LIMIT_BYTES,
  dashboard = true,
  dashboardDir,
  webhookBytesInFlight = DEFAULT_WEBHOOK_BYTES_IN_FLIGHT,
}: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverTimeoutOptions(settings.timeouts),
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

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    const code = edgeCodeOf(error.code, status);
    if (code === 'PAYLOAD_TOO_LARGE') {
      await drainRequest(request.raw);
      reply.header('connection', 'close');
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      code === 'PAYLOAD_TOO_LARGE'
        ? request.url.startsWith('/webhooks/')
          ? `request body exceeds the limit of ${webhookBodyLimitBytes} bytes (webhooks.bodyLimitBytes)`
          : `request body exceeds the limit of ${settings.bodyLimitBytes} bytes (server.bodyLimitBytes)`
        : status >= 500
          ? 'internal error; the server log has the detail'
          : error.message;
    return sendEdgeError(request, reply, code, message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendEdgeError(request, reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  await registerCors(app, settings.cors.origins);
  // Hook order: a CORS preflight is answered first; then the key is identified (onRequest); the
  // rate limit applies by key or address (the plugin's route-level onRequest, after app-level
  // ones); only then is a body budget reserved (preParsing) and the body read under its idle timeout.
  const keys = createKeyCache(api.store);
  registerCallerIdentification(app, keys);
  await registerRateLimit(app, settings.rateLimit);
  registerBodyIdleTimeout(app, settings.timeouts.bodyIdleMs);
  registerBodyBudget(app, {
    authenticated: {
      budgetBytes: settings.bodyBytesInFlight,
      bodyLimitBytes: settings.bodyLimitBytes,
      setting: 'server.bodyBytesInFlight',
    },
    anonymous: {
      budgetBytes: settings.anonymousBytesInFlight,
      bodyLimitBytes: settings.bodyLimitBytes,
      setting: 'server.anonymousBytesInFlight',
    },
    webhooks: { budgetBytes: webhookBytesInFlight, bodyLimitBytes: webhookBodyLimitBytes, setting: 'webhooks.bodyBytesInFlight' },
  });

  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok', role }));
  app.get('/readyz', { config: { rateLimit: false } }, async (_request, reply) => {
    const state = await readiness();
    return state.ready ? { status: 'ready', role } : reply.code(503).send({ status: 'not ready', role, reason: state.reason });
  });

  await registerWebhookRoutes(app, api, webhookBodyLimitBytes);
  if (metrics) registerMetricsRoute(app, metrics);
  if (dashboard) await registerDashboard(app, dashboardDir);

  const createContext = createContextFactory(
    settings.rateLimit.enabled ? { ...api, messageQuota: createMessageQuota(settings.rateLimit.messagesPerMinute) } : api,
    keys,
  );
  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    createContext: ({ req }) =>
      createContext({
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        csrf: req.headers[CSRF_HEADER] !== undefined,
        // Fastify reads X-Forwarded-Proto only with server.trustProxy.
        secure: req.protocol === 'https',
        ...(req.caller ? { caller: req.caller } : {}),
      }),
    responseMeta: ({ ctx, errors }) => {
      const waits = errors.map(retryAfterOf).filter((seconds) => seconds !== undefined);
      const headers = {
        ...apiResponseMeta({ ctx }).headers,
        ...(waits.length > 0 ? { 'retry-after': String(Math.max(...waits)) } : {}),
      };
      return Object.keys(headers).length > 0 ? { headers } : {};
    },
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'api procedure failed');
    },
  };
  await app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions });
  return app;
}
