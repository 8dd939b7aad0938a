import { z } from 'zod';
import { isSendgridPublicKey } from './webhook-signature.js';

/** SendGrid's global API host. */
export const SENDGRID_GLOBAL_URL = 'https://api.sendgrid.com';
/** SendGrid's EU API host, for subusers whose data must stay in the EU. */
export const SENDGRID_EU_URL = 'https://api.eu.sendgrid.com';

export const sendGridProviderConfigSchema = z.strictObject({
  type: z.literal('sendgrid'),
  name: z.string().min(1),
  apiKey: z.string().min(1),
  /** API host: the global one, the EU one, or a stand-in. */
  baseUrl: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).default(SENDGRID_GLOBAL_URL),
  /** SendGrid checks each request and sends nothing (answers 200 without a message id). */
  sandboxMode: z.boolean().default(false),
  /** IP pool to send from (SendGrid accepts 2 to 64 characters). */
  ipPoolName: z.string().min(2).max(64).optional(),
  /** Base64 ECDSA public key of the signed Event Webhook, for the webhook verifier; checked at load. */
  webhookPublicKey: z
    .string()
    .min(1)
    .refine(isSendgridPublicKey, 'must be the EC public key SendGrid shows as the Verification Key (base64)')
    .optional(),
  /** `verify()` gives up after this long: a health check must never hang. */
  verifyTimeoutMs: z.number().int().positive().default(5_000),
});

export type SendGridProviderConfig = z.output<typeof sendGridProviderConfigSchema>;
export type SendGridProviderConfigInput = z.input<typeof sendGridProviderConfigSchema>;
