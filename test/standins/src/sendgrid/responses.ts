import { randomBytes } from 'node:crypto';
import type { SendGridApiError } from './validation.js';

/** Statuses the stand-in can be told to answer with, each with the body SendGrid sends. */
export type SendGridFaultStatus = 400 | 401 | 403 | 413 | 429 | 500 | 502 | 503 | 504;

export interface SendGridErrorBody {
  readonly errors: readonly SendGridApiError[];
}

const error = (message: string, field: string | null = null, help: string | null = null): SendGridErrorBody => ({
  errors: [{ message, field, help }],
});

export const UNAUTHORIZED_BODY = error('The provided authorization grant is invalid, expired, or revoked');

export const faultBodies: Readonly<Record<SendGridFaultStatus, SendGridErrorBody>> = {
  400: error('Bad Request'),
  401: UNAUTHORIZED_BODY,
  403: error(
    'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements',
    'from',
  ),
  413: error('The JSON payload you have included in your request is too large.'),
  429: error('too many requests'),
  500: error('internal error'),
  502: error('Bad Gateway'),
  503: error('Service Unavailable'),
  504: error('Gateway Timeout'),
};

export const NOT_FOUND_BODY = error('resource not found');
export const METHOD_NOT_ALLOWED_BODY = error('method not allowed');
export const BAD_JSON_BODY = error('Bad Request');
export const TOO_LARGE_BODY = faultBodies[413];

/** SendGrid's X-Message-Id: 22 URL-safe base64 characters. */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

/** A key shaped like SendGrid's (`SG.<22>.<43>`), so redaction patterns see a realistic secret. */
export function newApiKey(): string {
  return `SG.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}
