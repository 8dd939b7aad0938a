import { describe, expect, it } from 'vitest';
import { uuidv7 } from './ids.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the millisecond in the first 48 bits', () => {
    const ms = Date.UTC(2026, 10, 25, 18, 0, 0, 123);
    const id = uuidv7(ms);
    expect(id).toMatch(FORMAT);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('sorts in the order made, within one millisecond and across them, and never repeats', () => {
    const start = Date.now() + 10_000;
    const ids: string[] = [];
    // 5,000 in one millisecond overflows the 12-bit counter: it must borrow the next millisecond.
    for (let i = 0; i < 5_000; i += 1) ids.push(uuidv7(start));
    for (let i = 0; i < 5_000; i += 1) ids.push(uuidv7(start + 2 + Math.floor(i / 100)));
    for (const id of ids) expect(id).toMatch(FORMAT);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('fills the random part with random bits', () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => uuidv7().slice(19)));
    expect(tails.size).toBe(1_000);
  });
});
