/**
 * Text that reaches the database from outside (provider answers and headers, SMTP replies,
 * provider message ids, webhook events) goes through here first. PostgreSQL refuses a NUL in
 * a text column ("invalid byte sequence for encoding UTF8: 0x00"), and in jsonb also the
 * `\u0000` and unpaired surrogate escapes JSON.stringify writes for such characters; SQLite
 * takes them but hands back mangled text. Either character becomes U+FFFD, so a reader still
 * sees where something was.
 */

const REPLACEMENT = '\ufffd';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** An escape JSON.stringify writes for a NUL or a lone surrogate, not itself escaped (an even run of backslashes before it). */
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

/** The text with every NUL and unpaired surrogate replaced by U+FFFD. */
export function cleanText(value: string): string {
  return value.replaceAll('\u0000', REPLACEMENT).replace(LONE_SURROGATE, REPLACEMENT);
}

/** `cleanText` for a value that may be absent. */
export function cleanOptional(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : cleanText(value);
}

/** JSON text both databases store as it was given: `undefined` when the value cannot be written as JSON. */
export function jsonText(value: unknown): string | undefined {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : text.replace(BAD_ESCAPE, `$1\\ufffd`);
}

/** The first `max` characters, with a pair of surrogates cut in two mended (`…` marks the cut). */
export function truncateText(value: string, max: number): string {
  return value.length <= max ? value : `${cleanText(value.slice(0, max - 1))}…`;
}
