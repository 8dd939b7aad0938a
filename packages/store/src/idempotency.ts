import { createHash } from 'node:crypto';
import type { MessageContent } from '@mailroute/core';

/**
 * What an idempotency key promises: the same key means the same message. The fingerprint is
 * SHA-256 over the validated content as canonical JSON (object keys sorted at every depth,
 * times as ISO text), every field that defines the message and nothing else: not the key
 * itself, and not the tenant (keys are per tenant already). Validation fills defaults first, so
 * `cc: []` and a missing `cc` are the same message.
 */
export function contentHash(content: MessageContent): string {
  const { idempotencyKey: _key, ...fields } = content;
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
