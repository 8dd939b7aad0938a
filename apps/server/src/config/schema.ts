import { defaultBreakerOptions } from '@mailroute/core';
import { captureProviderConfigSchema } from '@mailroute/providers/capture/config';
import { sendGridProviderConfigSchema } from '@mailroute/providers/sendgrid/config';
import { sesProviderConfigSchema } from '@mailroute/providers/ses/config';
import { smtpProviderConfigSchema } from '@mailroute/providers/smtp/config';
import { z } from 'zod';

const breakerSchema = z.strictObject({
  timeoutMs: z.number().int().positive().optional(),
  capacity: z.number().int().positive().optional(),
  volumeThreshold: z.number().int().min(0).optional(),
  errorThresholdPercentage: z.number().min(1).max(100).optional(),
  resetTimeoutMs: z.number().int().positive().optional(),
  rollingCountTimeoutMs: z.number().int().positive().optional(),
  rollingCountBuckets: z.number().int().positive().optional(),
});

export const providerConfigSchema = z.discriminatedUnion('type', [
  sendGridProviderConfigSchema,
  sesProviderConfigSchema,
  smtpProviderConfigSchema,
  captureProviderConfigSchema,
]);

export type ProviderConfig = z.output<typeof providerConfigSchema>;

const routingSchema = z.strictObject({
  /** `priority`: the order of `providers`; `weighted`: each provider's share of first choices. */
  strategy: z.enum(['priority', 'weighted']).default('priority'),
  /** Weight per provider name under `weighted` (default 1; 0 = standby only). */
  weights: z.record(z.string(), z.number().min(0)).default({}),
  /** Ambiguous outcome (timeout or reset after the request was written): resend now, or wait for events. */
  ambiguousPolicy: z.enum(['resend', 'confirm']).default('resend'),
  /** How long a held message waits for the provider's events before it goes elsewhere. */
  confirmWindowMs: z
    .number()
    .int()
    .positive()
    .default(5 * 60_000),
  /** Breaker settings for every provider, then per provider name. */
  breaker: breakerSchema.default({}),
  providerBreakers: z.record(z.string(), breakerSchema).default({}),
});

const retrySchema = z.strictObject({
  baseDelayMs: z.number().int().positive().default(2_000),
  maxDelayMs: z
    .number()
    .int()
    .positive()
    .default(10 * 60_000),
  maxAttempts: z.number().int().positive().default(12),
  maxAgeMs: z
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60_000),
});

const workerSchema = z.strictObject({
  concurrency: z.number().int().positive().default(100),
  leaseMs: z.number().int().positive().default(60_000),
  idlePollMs: z.number().int().positive().default(1_000),
  /** How often operator overrides (disable / drain) are re-read from the database. */
  overridesRefreshMs: z.number().int().positive().default(2_000),
  /**
   * On shutdown, how long sends in flight may take to finish; at least the longest send (every
   * provider's timeout in turn). One still unanswered then is recorded as ambiguous.
   */
  shutdownGraceMs: z.number().int().min(0).default(30_000),
});

const rateLimitSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Requests per minute per valid API key; requests without a valid key count per client address. */
  perMinute: z.number().int().positive().default(6_000),
  /** Messages per minute per API key, across `mail.send` (one each) and `mail.sendBatch` (one per message). */
  messagesPerMinute: z.number().int().positive().default(60_000),
});

const timeoutsSchema = z
  .strictObject({
    /** From the first byte of a request to the end of its headers (slow-header clients). */
    headersMs: z.number().int().positive().default(10_000),
    /** A request body that receives no byte for this long is cut (the connection is closed). */
    bodyIdleMs: z.number().int().positive().default(30_000),
    /** The whole request, headers and body, however steadily it trickles in. */
    requestMs: z.number().int().positive().default(300_000),
    /** An idle keep-alive connection is closed after this; longer than common load balancers' idle timeout (60 s), so they close first. */
    keepAliveMs: z.number().int().positive().default(72_000),
  })
  // Node refuses a headers timeout longer than the request timeout.
  .refine((timeouts) => timeouts.headersMs <= timeouts.requestMs, {
    message: 'headersMs may not be longer than requestMs',
    path: ['headersMs'],
  });

const corsSchema = z.strictObject({
  /** Browser origins (`https://app.example.com`) allowed to call the API; empty: no CORS headers at all. */
  origins: z
    .array(
      z.url().refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin, {
        message: 'an origin is scheme://host[:port] with no path, e.g. https://app.example.com',
      }),
    )
    .default([]),
});

/** A 10 MB message in base64 inside JSON is about 13.4 MB. */
export const DEFAULT_BODY_LIMIT_BYTES = 15 * 1024 * 1024;
/** About four largest bodies: each costs several times its size while parsed and stored. */
export const DEFAULT_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
/** Enough to answer requests without a valid key (they are refused anyway), never enough to matter. */
export const DEFAULT_ANONYMOUS_BYTES_IN_FLIGHT = 1024 * 1024;

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (the address is logged). */
  port: z.number().int().min(0).max(65_535).default(3000),
  bodyLimitBytes: z.number().int().positive().default(DEFAULT_BODY_LIMIT_BYTES),
  /** Request bodies held at once across requests; more get 503 with Retry-After (one request always fits). */
  /** Bodies of requests with a valid API key held at once; more get 503 with Retry-After (one request always fits). */
  bodyBytesInFlight: z.number().int().positive().default(DEFAULT_BODY_BYTES_IN_FLIGHT),
  /** Bodies of requests without a valid API key held at once (webhooks excepted); a body that does not fit is refused with 401 unread. */
  anonymousBytesInFlight: z.number().int().positive().default(DEFAULT_ANONYMOUS_BYTES_IN_FLIGHT),
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
  rateLimit: rateLimitSchema.default(rateLimitSchema.parse({})),
  cors: corsSchema.default(corsSchema.parse({})),
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (for rate limits and logs). */
  trustProxy: z.boolean().default(false),
});

/** A SendGrid batch of 1,000 events is about 1 MB; SNS messages are at most 256 KB. */
export const DEFAULT_WEBHOOK_BODY_LIMIT_BYTES = 5 * 1024 * 1024;
/** Four of the largest webhook bodies: a provider's burst never takes the API's budget, nor the API's a provider's. */
export const DEFAULT_WEBHOOK_BYTES_IN_FLIGHT = 4 * DEFAULT_WEBHOOK_BODY_LIMIT_BYTES;

const webhooksSchema = z.strictObject({
  /** A signed SendGrid request older (or further ahead) than this is refused as a replay. */
  toleranceSeconds: z.number().int().positive().default(300),
  /** Events in one SendGrid request; more is refused with 400 before anything is stored. */
  maxEventsPerRequest: z.number().int().positive().default(5_000),
  /** Largest webhook request body; larger gets 413. */
  bodyLimitBytes: z.number().int().positive().default(DEFAULT_WEBHOOK_BODY_LIMIT_BYTES),
  /** Webhook bodies held at once, apart from the API's; more get 503 with Retry-After (one request always fits). */
  bodyBytesInFlight: z.number().int().positive().default(DEFAULT_WEBHOOK_BYTES_IN_FLIGHT),
});

const healthSchema = z.strictObject({
  /** How often a process with a router (roles all and worker) reports its breakers; a breaker change reports at once. */
  heartbeatIntervalMs: z.number().int().positive().default(5_000),
  /** A process not heard from for this long is left out of `providers.health` (its row is deleted after ten times as long). */
  staleAfterMs: z.number().int().positive().default(20_000),
});

const metricsSchema = z.strictObject({
  /** `GET /metrics` (Prometheus text format, no API key) on the API port. */
  enabled: z.boolean().default(true),
  /** A separate listener for /metrics; how a worker-only process exposes its in-process counters. */
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).default('127.0.0.1'),
});

const alertChannelSchema = {
  /** Give up on one notice after this long; it is tried again at the next check. */
  timeoutMs: z.number().int().positive().default(5_000),
};

const alertsSchema = z
  .strictObject({
    /** The monitor runs in every process that serves the API (roles all and api); one at a time (a lease in the database) checks and notifies. */
    enabled: z.boolean().default(true),
    checkIntervalMs: z.number().int().positive().default(30_000),
    /** How long the active monitor holds its lease; when it dies, another process takes over after this. */
    leaseMs: z.number().int().positive().default(90_000),
    /** Late delivery: the oldest message not yet handed to a provider has waited this long. */
    lateAfterMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    /** A breaker that has not closed for this long (in any live process). */
    breakerOpenAfterMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** Messages that went dead within this window and are dead still. */
    deadWindowMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000),
    /** Every provider failing: no attempt accepted within this window, and providers at fault. */
    failingWindowMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** A firing incident is announced again this often; 0: never. */
    reminderIntervalMs: z
      .number()
      .int()
      .min(0)
      .default(60 * 60_000),
    channels: z
      .strictObject({
        /** A Slack incoming webhook (or anything that takes Slack's `{ text, blocks }`). */
        slack: z.strictObject({ url: z.url(), ...alertChannelSchema }).optional(),
        /** Any HTTP endpoint taking a JSON description of the incident. */
        webhook: z.strictObject({ url: z.url(), headers: z.record(z.string(), z.string()).default({}), ...alertChannelSchema }).optional(),
      })
      .default({}),
  })
  .refine((alerts) => alerts.leaseMs > alerts.checkIntervalMs, {
    message: 'leaseMs must be longer than checkIntervalMs (the active monitor renews its lease at every check)',
    path: ['leaseMs'],
  });

const dashboardSchema = z.strictObject({
  /** The operator console at /dashboard/ on every API process (from apps/dashboard's built files). */
  enabled: z.boolean().default(true),
  /** How long a console sign-in lasts. */
  sessionTtlMs: z
    .number()
    .int()
    .min(60_000)
    .max(30 * 86_400_000)
    .default(12 * 60 * 60_000),
  /** The console's address as people reach it (e.g. https://mail.example.com/dashboard/): alert notices link into it. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
});

export const configSchema = z
  .strictObject({
    database: z.strictObject({ url: z.string().min(1).default('file:./data/mailroute.db') }).default({ url: 'file:./data/mailroute.db' }),
    providers: z.array(providerConfigSchema).default([]),
    routing: routingSchema.default(routingSchema.parse({})),
    retry: retrySchema.default(retrySchema.parse({})),
    worker: workerSchema.default(workerSchema.parse({})),
    server: serverSchema.default(serverSchema.parse({})),
    webhooks: webhooksSchema.default(webhooksSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    health: healthSchema.default(healthSchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
    dashboard: dashboardSchema.default(dashboardSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.providers.forEach((provider, index) => {
      if (seen.has(provider.name)) {
        ctx.addIssue({ code: 'custom', path: ['providers', index, 'name'], message: `provider name "${provider.name}" is used twice` });
      }
      seen.add(provider.name);
    });
    for (const name of [...Object.keys(config.routing.weights), ...Object.keys(config.routing.providerBreakers)]) {
      if (!seen.has(name)) ctx.addIssue({ code: 'custom', path: ['routing'], message: `routing names unknown provider "${name}"` });
    }
    // The worker's sends beyond a provider's capacity would be refused as busy and go to the
    // next provider while the first is healthy: a quiet, surprising split of traffic.
    for (const provider of config.providers) {
      const capacity =
        config.routing.providerBreakers[provider.name]?.capacity ?? config.routing.breaker.capacity ?? defaultBreakerOptions.capacity;
      if (config.worker.concurrency > capacity) {
        ctx.addIssue({
          code: 'custom',
          path: ['worker', 'concurrency'],
          message: `worker.concurrency ${config.worker.concurrency} is above the breaker capacity ${capacity} of provider "${provider.name}": sends beyond it would be refused as busy; raise routing.breaker.capacity (or routing.providerBreakers.${provider.name}.capacity) or lower the concurrency`,
        });
      }
    }
    // A send cut by the shutdown is recorded as ambiguous and may reach the recipient twice:
    // the grace must let the longest send (every provider's timeout in turn) finish.
    const timeouts = providerTimeouts(config);
    const longest = longestSendMs(config);
    if (config.worker.shutdownGraceMs < longest) {
      ctx.addIssue({
        code: 'custom',
        path: ['worker', 'shutdownGraceMs'],
        message: `worker.shutdownGraceMs ${config.worker.shutdownGraceMs} is shorter than the longest send, ${longest} ms (routing.breaker.timeoutMs or routing.providerBreakers.<name>.timeoutMs of every provider in turn: ${timeouts.map(([name, timeoutMs]) => `${name} ${timeoutMs}`).join(' + ')}): a stop would cut sends that may reach the recipient; raise worker.shutdownGraceMs to at least ${longest} or lower the timeouts`,
      });
    }
  });

export type MailrouteConfig = z.output<typeof configSchema>;
export type MailrouteConfigInput = z.input<typeof configSchema>;

/** Each provider's call timeout, in configured order. */
export function providerTimeouts(config: Pick<MailrouteConfig, 'providers' | 'routing'>): (readonly [string, number])[] {
  const { routing } = config;
  return config.providers.map(
    (provider) =>
      [
        provider.name,
        routing.providerBreakers[provider.name]?.timeoutMs ?? routing.breaker.timeoutMs ?? defaultBreakerOptions.timeoutMs,
      ] as const,
  );
}

/** The longest one send can take on this configuration: each provider in turn up to its timeout. */
export function longestSendMs(config: Pick<MailrouteConfig, 'providers' | 'routing'>): number {
  return providerTimeouts(config).reduce((total, [, timeoutMs]) => total + timeoutMs, 0);
}
