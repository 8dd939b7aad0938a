import { describe, expect, it } from 'vitest';
import { FixedWindows } from './fixed-windows.js';
import { createMessageQuota, SplitStore } from './rate-limit.js';

const incr = (store: SplitStore, name: string) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(name, (error, result) => (error || !result ? reject(error) : resolve(result))),
  );

describe('rate-limit tables', () => {
  it('fixed windows: counts within a window, starts over after it, drops the least recently used past capacity', () => {
    const windows = new FixedWindows(1_000, 2);
    expect(windows.add('a', 1, 0)).toEqual({ count: 1, resetInMs: 1_000 });
    expect(windows.add('a', 3, 400)).toEqual({ count: 4, resetInMs: 600 });
    expect(windows.add('a', 1, 1_000)).toEqual({ count: 1, resetInMs: 1_000 });
    windows.add('b', 1, 1_001);
    windows.add('a', 1, 1_002);
    windows.add('c', 1, 1_003);
    expect(windows.size).toBe(2);
    expect(windows.peek('b', 1_004).count).toBe(0);
    expect(windows.peek('a', 1_004).count).toBe(2);
  });

  it("a flood of addresses larger than the address table leaves every key's bucket as it was", async () => {
    const store = new SplitStore({ keyBuckets: 10, addressBuckets: 5 });
    for (let i = 0; i < 3; i += 1) await incr(store, 'key:k1');
    for (let i = 0; i < 1_000; i += 1) await incr(store, `ip:10.0.${i >> 8}.${i & 255}`);
    expect((await incr(store, 'key:k1')).current).toBe(4);
    // The address table itself stayed bounded: the oldest addresses started over.
    expect((await incr(store, 'ip:10.0.0.0')).current).toBe(1);
  });

  it('the message quota refuses what would pass the limit without charging it', () => {
    const quota = createMessageQuota(10);
    expect(quota.take('k1', 8)).toBeUndefined();
    const refused = quota.take('k1', 3);
    expect(refused?.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused?.message).toContain('8 already submitted');
    expect(quota.take('k1', 2)).toBeUndefined();
    expect(quota.take('k2', 10)).toBeUndefined();
    expect(quota.take('k2', 11)?.message).toContain('a batch of 11 messages is more than the limit of 10');
  });
});
