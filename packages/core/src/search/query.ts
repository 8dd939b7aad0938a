import { type MessageStatus, messageStatuses } from '../model/status.js';

/**
 * The one message search language, shared by `mail.search`, the CLI and the console:
 * `to:` `from:` `subject:` `status:` `provider:` `tag:` `key:` `id:` `before:` `after:`,
 * `-` before a term to exclude, "quoted phrases", and bare words (subject or recipient).
 * Parsed here, without I/O; the store turns the terms into SQL.
 */
export const searchPrefixes = ['to', 'from', 'subject', 'status', 'provider', 'tag', 'key', 'id', 'before', 'after'] as const;
export type SearchPrefix = (typeof searchPrefixes)[number];

export type SearchTerm =
  | {
      /** `to` matches any envelope recipient (to, cc, bcc); `key` is the idempotency key. */
      readonly field: 'to' | 'from' | 'subject' | 'provider' | 'tag' | 'key' | 'id' | 'text';
      /** Any of these (a comma list); addresses lower-cased. */
      readonly values: readonly string[];
      readonly negate: boolean;
    }
  | { readonly field: 'status'; readonly values: readonly MessageStatus[]; readonly negate: boolean }
  | { readonly field: 'before' | 'after'; readonly at: number; readonly negate: boolean };

export interface SearchQuery {
  /** All must hold. */
  readonly terms: readonly SearchTerm[];
}

export type SearchParse = { readonly ok: true; readonly query: SearchQuery } | { readonly ok: false; readonly message: string };

export const SEARCH_QUERY_MAX_LENGTH = 1_000;
export const SEARCH_MAX_TERMS = 20;

const TOKEN = /\s*(-)?(?:([A-Za-z_]+):)?(?:"([^"]*)"|(\S+))/y;
const RELATIVE = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `after:1h` is an hour before `now`; `after:2026-12-07` is that day's start in UTC; a full ISO
 * time without a zone is UTC too (the server's zone must not change what a link means).
 */
function parseTime(value: string, now: number): number | undefined {
  const relative = RELATIVE.exec(value);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  if (!ISO_DATE.test(value)) return undefined;
  const text = /[T ]\d{2}:\d{2}/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

function valuesOf(value: string, lower: boolean): string[] {
  return value
    .split(',')
    .map((part) => (lower ? part.trim().toLowerCase() : part.trim()))
    .filter((part) => part !== '');
}

/** Parses a query; `now` (epoch ms) anchors relative times. The empty query matches everything. */
export function parseSearchQuery(q: string, now: number = Date.now()): SearchParse {
  if (q.length > SEARCH_QUERY_MAX_LENGTH) return { ok: false, message: `the query is longer than ${SEARCH_QUERY_MAX_LENGTH} characters` };
  const terms: SearchTerm[] = [];
  let rest = q;
  while (rest.trim() !== '') {
    TOKEN.lastIndex = 0;
    const match = TOKEN.exec(rest);
    if (!match) return { ok: false, message: `cannot read the query at "${rest.trim().slice(0, 40)}"` };
    rest = rest.slice(TOKEN.lastIndex);
    const [, minus, matchedPrefix, quoted, bare] = match;
    const negate = minus === '-';
    // `to:` with nothing after it matches as a bare word: it is an empty prefix.
    const empty = matchedPrefix === undefined && bare !== undefined ? /^([A-Za-z_]+):$/.exec(bare) : null;
    const rawPrefix = empty ? empty[1] : matchedPrefix;
    const value = empty ? '' : (quoted ?? bare ?? '');
    if (quoted === undefined && value.includes('"')) return { ok: false, message: `unbalanced quote in ${value}: close the phrase with "` };
    if (rawPrefix === undefined) {
      if (value.trim() !== '' && value !== '-') terms.push({ field: 'text', values: [value.trim()], negate });
      continue;
    }
    const prefix = rawPrefix.toLowerCase();
    if (!(searchPrefixes as readonly string[]).includes(prefix)) {
      return {
        ok: false,
        message: `unknown search prefix "${rawPrefix}:"; valid prefixes: ${searchPrefixes.map((name) => `${name}:`).join(' ')} (quote a phrase that holds a colon)`,
      };
    }
    const term = termOf(prefix as SearchPrefix, value, negate, now);
    if ('message' in term) return { ok: false, message: term.message };
    terms.push(term);
  }
  if (terms.length > SEARCH_MAX_TERMS) return { ok: false, message: `at most ${SEARCH_MAX_TERMS} terms in one query` };
  return { ok: true, query: { terms } };
}

function termOf(prefix: SearchPrefix, value: string, negate: boolean, now: number): SearchTerm | { message: string } {
  if (value.trim() === '') return { message: `${prefix}: needs a value (no space after the colon)` };
  if (value.length > 500) return { message: `the value of ${prefix}: is longer than 500 characters` };
  switch (prefix) {
    case 'before':
    case 'after': {
      const at = parseTime(value.trim(), now);
      if (at === undefined) {
        return { message: `${prefix}:${value} is not a time: use an ISO date (2026-12-07, 2026-12-07T09:30Z) or an age (30m, 1h, 2d, 1w)` };
      }
      return { field: prefix, at, negate };
    }
    case 'status': {
      const values = valuesOf(value, true);
      if (values.length === 0) return { message: 'status: needs a value (no space after the colon)' };
      const unknown = values.filter((status) => !(messageStatuses as readonly string[]).includes(status));
      if (unknown.length > 0) return { message: `unknown status ${unknown.join(', ')}; statuses: ${messageStatuses.join(', ')}` };
      return { field: 'status', values: values as MessageStatus[], negate };
    }
    case 'subject':
      return { field: 'subject', values: [value.trim()], negate };
    default: {
      const values = valuesOf(value, prefix === 'to' || prefix === 'from');
      if (values.length === 0) return { message: `${prefix}: needs a value (no space after the colon)` };
      return { field: prefix, values, negate };
    }
  }
}
