import type { KeyObject } from 'node:crypto';
import { parseSendgridPublicKey } from '@mailroute/providers/sendgrid';

/** More keys than any configuration holds: rotations and reloads cannot grow the cache without bound. */
const MAX_KEYS = 64;
const parsed = new Map<string, KeyObject>();

/**
 * The configured SendGrid verification key, parsed once per key text: parsing cost more than
 * verifying the signature (about 2% of server CPU under a webhook burst). Keyed by the text, so
 * a rotated or reloaded key is simply a new entry. A key that does not parse is handed back as
 * text, and the verifier refuses the request with its own reason.
 */
export function sendgridVerificationKey(text: string): KeyObject | string {
  const cached = parsed.get(text);
  if (cached) return cached;
  let key: KeyObject;
  try {
    key = parseSendgridPublicKey(text);
  } catch {
    return text;
  }
  if (parsed.size >= MAX_KEYS) {
    const oldest = parsed.keys().next();
    if (!oldest.done) parsed.delete(oldest.value);
  }
  parsed.set(text, key);
  return key;
}
