import { describe, expect, test } from 'vitest';
import { parseSearchQuery, type SearchQuery } from './query.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

function parsed(q: string): SearchQuery {
  const result = parseSearchQuery(q, NOW);
  if (!result.ok) throw new Error(result.message);
  return result.query;
}

function refused(q: string): string {
  const result = parseSearchQuery(q, NOW);
  if (result.ok) throw new Error(`"${q}" parsed`);
  return result.message;
}

describe('message search language', () => {
  test('every prefix becomes its term; addresses are lower-cased, keys and ids are not', () => {
    expect(
      parsed('to:Guest@Example.org from:desk@hotel.example subject:Booking status:dead provider:sendgrid tag:welcome key:Order-7 id:0193ab')
        .terms,
    ).toEqual([
      { field: 'to', values: ['guest@example.org'], negate: false },
      { field: 'from', values: ['desk@hotel.example'], negate: false },
      { field: 'subject', values: ['Booking'], negate: false },
      { field: 'status', values: ['dead'], negate: false },
      { field: 'provider', values: ['sendgrid'], negate: false },
      { field: 'tag', values: ['welcome'], negate: false },
      { field: 'key', values: ['Order-7'], negate: false },
      { field: 'id', values: ['0193ab'], negate: false },
    ]);
  });

  test('a minus excludes, commas give alternatives, quotes keep a phrase with spaces and colons', () => {
    expect(parsed('-status:sent,delivered subject:"Re: your stay" "late checkout" -tag:test').terms).toEqual([
      { field: 'status', values: ['sent', 'delivered'], negate: true },
      { field: 'subject', values: ['Re: your stay'], negate: false },
      { field: 'text', values: ['late checkout'], negate: false },
      { field: 'tag', values: ['test'], negate: true },
    ]);
  });

  test('bare words are text terms, one each; prefixes are case-insensitive', () => {
    expect(parsed('booking  confirmed STATUS:Queued').terms).toEqual([
      { field: 'text', values: ['booking'], negate: false },
      { field: 'text', values: ['confirmed'], negate: false },
      { field: 'status', values: ['queued'], negate: false },
    ]);
  });

  test('before and after take ISO dates (UTC when no zone is given) and ages relative to now', () => {
    expect(parsed('after:2d before:30m').terms).toEqual([
      { field: 'after', at: NOW - 2 * 86_400_000, negate: false },
      { field: 'before', at: NOW - 30 * 60_000, negate: false },
    ]);
    expect(parsed('after:2026-12-01 before:2026-12-02T09:30').terms).toEqual([
      { field: 'after', at: Date.parse('2026-12-01T00:00:00Z'), negate: false },
      { field: 'before', at: Date.parse('2026-12-02T09:30:00Z'), negate: false },
    ]);
    expect(parsed('after:2026-12-01T09:00+09:00').terms).toEqual([
      { field: 'after', at: Date.parse('2026-12-01T00:00:00Z'), negate: false },
    ]);
  });

  test('the empty query matches everything', () => {
    expect(parsed('   ').terms).toEqual([]);
  });

  test('an unknown prefix is refused with the list of valid ones', () => {
    const message = refused('status:dead recipient:a@b.example');
    expect(message).toContain('unknown search prefix "recipient:"');
    expect(message).toContain('to: from: subject: status: provider: tag: key: id: before: after:');
  });

  test('bad values are refused with what would be right', () => {
    expect(refused('status:lost')).toContain('unknown status lost; statuses: queued');
    expect(refused('after:yesterday')).toContain('ISO date');
    expect(refused('to:')).toBe('to: needs a value (no space after the colon)');
    expect(refused('to: guest@example.org')).toBe('to: needs a value (no space after the colon)');
    expect(refused('to:,')).toBe('to: needs a value (no space after the colon)');
    expect(refused('subject:"open')).toContain('unbalanced quote');
    expect(refused('x'.repeat(1_001))).toContain('longer than 1000');
    expect(refused(Array.from({ length: 21 }, (_, i) => `w${i}`).join(' '))).toContain('at most 20 terms');
  });
});
