import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** The headers SendGrid's signed Event Webhook sets (lower case, as Node presents them). */
export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export type WebhookVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Reads the verification key SendGrid shows (base64 DER SubjectPublicKeyInfo); a PEM block is
 * accepted too. Throws when it is not an EC public key, so configuration can refuse it at load.
 */
export function parseSendgridPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec') throw new Error(`the SendGrid webhook key is ${key.asymmetricKeyType}, not an EC key`);
  return key;
}

export function isSendgridPublicKey(text: string): boolean {
  try {
    parseSendgridPublicKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a signed Event Webhook post: ECDSA P-256 with SHA-256 over the timestamp header followed
 * by the raw body, exactly the bytes received. A timestamp outside the tolerance (stale, or too far
 * ahead) is refused with 403 even when the signature holds: that is a replay, not a forgery.
 */
export function verifySendgridSignature(
  request: { rawBody: Buffer; signature: string | undefined; timestamp: string | undefined },
  /** `publicKey` as configured, or parsed once with parseSendgridPublicKey (parsing costs more than verifying). */
  options: { publicKey: string | KeyObject; toleranceSeconds: number; now?: () => number },
): WebhookVerdict {
  const { signature, timestamp } = request;
  if (!signature || !timestamp) return { ok: false, status: 401, reason: 'the signature and timestamp headers are required' };
  if (!UNIX_SECONDS.test(timestamp)) return { ok: false, status: 401, reason: 'the timestamp header is not a Unix time in seconds' };
  if (!BASE64.test(signature)) return { ok: false, status: 401, reason: 'the signature header is not base64' };
  const skew = Math.floor((options.now?.() ?? Date.now()) / 1000) - Number(timestamp);
  if (skew > options.toleranceSeconds) return { ok: false, status: 403, reason: `the timestamp is ${skew} s old` };
  if (-skew > options.toleranceSeconds) return { ok: false, status: 403, reason: `the timestamp is ${-skew} s in the future` };
  let key: KeyObject;
  try {
    key = typeof options.publicKey === 'string' ? parseSendgridPublicKey(options.publicKey) : options.publicKey;
  } catch {
    return { ok: false, status: 401, reason: 'the configured SendGrid webhook key is not a valid EC public key' };
  }
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]);
  let valid: boolean;
  try {
    valid = verify('sha256', signed, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, status: 401, reason: 'the signature does not match the body and timestamp' };
}
