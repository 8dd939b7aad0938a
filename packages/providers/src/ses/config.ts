import { z } from 'zod';

export const sesProviderConfigSchema = z.strictObject({
  type: z.literal('ses'),
  name: z.string().min(1),
  region: z.string().min(1),
  /** Another endpoint than SES's own for the region: a local emulator or a proxy. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Static credentials; without them the AWS SDK's default chain applies (environment, profile, instance role). */
  credentials: z
    .strictObject({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      sessionToken: z.string().min(1).optional(),
    })
    .optional(),
  /** Needed for SES to publish sending events (deliveries, bounces) to SNS. */
  configurationSetName: z.string().min(1).optional(),
  /** SNS topics whose notifications the webhook accepts for this provider. */
  webhookTopicArns: z.array(z.string().min(1)).default([]),
  /** How long to wait for a TCP (and TLS) connection before calling SES unreachable. */
  connectTimeoutMs: z.number().int().positive().default(5_000),
  /** `verify()` gives up after this long: a health check must never hang. */
  verifyTimeoutMs: z.number().int().positive().default(5_000),
});

export type SesProviderConfig = z.output<typeof sesProviderConfigSchema>;
export type SesProviderConfigInput = z.input<typeof sesProviderConfigSchema>;
