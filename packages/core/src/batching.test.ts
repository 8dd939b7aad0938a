import { describe, expect, it } from 'vitest';
import { writeSplitting } from './batching.js';

/** A store holding what it took, refusing any batch that holds one of `bad` (a transaction is all or nothing). */
function store(bad: ReadonlySet<number>, down = false) {
  const written: number[] = [];
  let calls = 0;
  return {
    written,
    calls: () => calls,
    async write(batch: readonly number[]) {
      calls += 1;
      if (down) throw new Error('connection refused');
      const refused = batch.find((item) => bad.has(item));
      if (refused !== undefined) throw new Error(`cannot store ${refused}`);
      written.push(...batch);
    },
  };
}

const items = (count: number) => Array.from({ length: count }, (_, index) => index);

describe('writeSplitting', () => {
  it('writes a good batch in one call', async () => {
    const target = store(new Set());
    expect(await writeSplitting(items(100), target.write)).toEqual([]);
    expect(target.written).toEqual(items(100));
    expect(target.calls()).toBe(1);
  });

  it('one item the store refuses holds back only itself, in about 2·log2(n) calls', async () => {
    const target = store(new Set([37]));
    const failures = await writeSplitting(items(100), target.write);
    expect(failures).toEqual([{ item: 37, error: new Error('cannot store 37') }]);
    expect(target.written.sort((a, b) => a - b)).toEqual(items(100).filter((item) => item !== 37));
    expect(target.calls()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 1);
  });

  it('several bad items each fail alone; every other item is written once', async () => {
    const target = store(new Set([0, 1, 50, 99]));
    const failures = await writeSplitting(items(100), target.write);
    expect(failures.map((failure) => failure.item)).toEqual([0, 1, 50, 99]);
    expect(target.written).toHaveLength(96);
    expect(new Set(target.written).size).toBe(96);
  });

  it('when nothing can be written, stops splitting after 2·log2(n)+2 calls and fails the rest untried', async () => {
    const target = store(new Set(), true);
    const failures = await writeSplitting(items(1_000), target.write);
    expect(failures).toHaveLength(1_000);
    expect(failures.every((failure) => (failure.error as Error).message === 'connection refused')).toBe(true);
    expect(target.calls()).toBe(2 * Math.ceil(Math.log2(1_000)) + 2);
  });

  it('an empty batch writes nothing', async () => {
    const target = store(new Set());
    expect(await writeSplitting([], target.write)).toEqual([]);
    expect(target.calls()).toBe(0);
  });
});
