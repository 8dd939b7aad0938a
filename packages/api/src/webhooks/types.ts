import type { CertificateSource } from '@mailroute/providers/ses';
import type { IngestReport } from '@mailroute/store';
import type { ApiErrorCode } from '../errors.js';

/** The providers' webhook credentials as configured now; read per request, so they follow reloads. */
export interface WebhookSettings {
  /** A signed SendGrid request whose timestamp is further than this from now is refused as a replay. */
  readonly toleranceSeconds: number;
  /** Events in one SendGrid request; more is refused before anything is stored. */
  readonly maxEventsPerRequest: number;
  /** SendGrid provider entries; one without a public key never accepts a webhook. */
  readonly sendgrid: readonly { readonly name: string; readonly publicKey?: string | undefined }[];
  /** SES provider entries and the SNS topics each accepts. */
  readonly ses: readonly { readonly name: string; readonly topicArns: readonly string[] }[];
}

/** The subset of pino the handlers log through. */
export interface WebhookLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** GETs an SNS SubscribeURL; answers the HTTP status. */
export type SubscriptionConfirmer = (url: string) => Promise<number>;

export interface WebhookDependencies {
  readonly settings: () => WebhookSettings;
  /** Where SNS signing certificates come from (the server: HTTPS from SNS hosts, cached). */
  readonly certificateSource: CertificateSource;
  /** Confirms SNS subscriptions; `fetch` with a time limit by default. */
  readonly confirmSubscription?: SubscriptionConfirmer;
  readonly logger?: WebhookLogger;
  readonly now?: () => number;
}

/** What a webhook handler reads from an HTTP request: the body exactly as received, and lower-case headers. */
export interface WebhookRequest {
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** Refusals carry the same shape as the server's other non-tRPC errors: `{ statusCode, code, message }`. */
export interface WebhookRefusal {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  readonly message: string;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: WebhookRefusal | IngestReport | { readonly ok: true; readonly detail: string };
}

export function refuse(status: number, code: ApiErrorCode, message: string): WebhookResponse {
  return { status, body: { statusCode: status, code, message } };
}

/** The code a verifier's status travels with. */
export function codeOfStatus(status: 400 | 401 | 403): ApiErrorCode {
  return status === 400 ? 'INVALID_INPUT' : status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
}

export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** JSON.parse, or undefined when the body is not JSON (UTF-8). */
export function parseJson(rawBody: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(rawBody.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}
