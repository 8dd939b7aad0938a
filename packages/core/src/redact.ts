/**
 * Secrets never reach the attempt log. Providers pass every response, error and request
 * summary through `redact` before returning it.
 */
const SECRET_KEY =
  /^(authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|pass(word)?|secret|.*secret(access)?key|session[-_]?token|x-amz-security-token|token|access[-_]?token|credentials?|cookie|set-cookie)$/i;

const SECRET_PATTERNS: readonly RegExp[] = [
  /\bSG\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /(Credential=)[^,\s]+/g,
  /(Signature=)[0-9a-f]+/gi,
];

export const REDACTED = '[REDACTED]';

export function redactString(value: string, extraSecrets: readonly string[] = []): string {
  let out = value;
  // Longest first: a secret that contains another (an AUTH blob holding the password's base64) goes whole.
  for (const secret of [...extraSecrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (_match, prefix: unknown) =>
      typeof prefix === 'string' && prefix.endsWith('=') ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return out;
}

/**
 * Deep copy of `value` with secret-named fields replaced and secret-looking substrings
 * masked. `extraSecrets` are literal values known to be secret (the configured API key).
 */
export function redact<T>(value: T, extraSecrets: readonly string[] = []): T {
  return walk(value, extraSecrets, 0) as T;
}

function walk(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return redactString(value, secrets);
  if (typeof value !== 'object' || value === null || depth > 20) return value;
  if (Array.isArray(value)) return value.map((item) => walk(item, secrets, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && item !== undefined ? REDACTED : walk(item, secrets, depth + 1);
  }
  return out;
}
