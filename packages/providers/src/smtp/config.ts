import { z } from 'zod';

const tlsSchema = z.strictObject({
  rejectUnauthorized: z.boolean().default(true),
  /** Name to check the certificate against when `host` is an IP address or an alias. */
  servername: z.string().min(1).optional(),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
});

export const smtpProviderConfigSchema = z
  .strictObject({
    type: z.literal('smtp'),
    name: z.string().min(1),
    /** `smtp://host:port` or `smtps://host:port` (implicit TLS); credentials may ride in it. */
    url: z.url({ protocol: /^smtps?$/, message: 'must be an smtp:// or smtps:// URL' }).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    /** Implicit TLS from the first byte (port 465); otherwise STARTTLS is used when offered. */
    secure: z.boolean().optional(),
    auth: z.strictObject({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
    tls: tlsSchema.prefault({}),
    /** Refuse to send unless the server upgrades the connection with STARTTLS. */
    requireTLS: z.boolean().default(false),
    /** Host name announced in EHLO; defaults to this machine's name. */
    clientHostname: z.string().min(1).optional(),
    maxConnections: z.number().int().min(1).max(100).default(5),
    /** Messages per pooled connection before it is replaced. */
    maxMessages: z.number().int().min(1).default(100),
    connectionTimeoutMs: z.number().int().positive().default(10_000),
    greetingTimeoutMs: z.number().int().positive().default(10_000),
    /** Inactivity on an open connection after which it is dropped. */
    socketTimeoutMs: z.number().int().positive().default(60_000),
  })
  .refine((config) => (config.url === undefined) !== (config.host === undefined), {
    message: 'give either url or host, not both',
    path: ['host'],
  });

export type SmtpProviderConfigInput = z.input<typeof smtpProviderConfigSchema>;
export type SmtpProviderConfig = z.output<typeof smtpProviderConfigSchema>;
