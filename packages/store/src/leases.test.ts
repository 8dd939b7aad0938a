import { expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { manualClock } from './test/fixtures.js';

const TTL = 10_000;

forEachDatabase('leases', (database) => {
  async function twoProcesses() {
    const clock = manualClock();
    // Two stores on one database: what two processes see.
    const a = await database.open({ now: clock.now, listen: false });
    const b = await database.open({ now: clock.now, listen: false });
    return { clock, a, b };
  }

  test('one holder at a time; the holder renews; another takes over only once it expired', async () => {
    const { clock, a, b } = await twoProcesses();
    expect(await a.tryAcquireLease('monitor', 'a', TTL)).toBe(true);
    expect(await b.tryAcquireLease('monitor', 'b', TTL)).toBe(false);
    expect(await a.leaseHolder('monitor')).toMatchObject({ owner: 'a', expiresAt: clock.now() + TTL });

    clock.advance(TTL - 1);
    expect(await a.renewLease('monitor', 'a', TTL)).toBe(true);
    clock.advance(TTL - 1);
    expect(await b.tryAcquireLease('monitor', 'b', TTL)).toBe(false);
    expect(await b.renewLease('monitor', 'b', TTL)).toBe(false);

    clock.advance(2);
    expect(await a.leaseHolder('monitor')).toBeUndefined();
    expect(await b.tryAcquireLease('monitor', 'b', TTL)).toBe(true);
    expect(await a.renewLease('monitor', 'a', TTL)).toBe(false);
    expect(await a.tryAcquireLease('monitor', 'a', TTL)).toBe(false);
    expect(await b.leaseHolder('monitor')).toMatchObject({ owner: 'b', acquiredAt: clock.now() });
  });

  test('acquiring again keeps the first acquisition time and extends the lease', async () => {
    const { clock, a } = await twoProcesses();
    const start = clock.now();
    expect(await a.tryAcquireLease('monitor', 'a', TTL)).toBe(true);
    clock.advance(5_000);
    expect(await a.tryAcquireLease('monitor', 'a', TTL)).toBe(true);
    expect(await a.leaseHolder('monitor')).toEqual({ owner: 'a', acquiredAt: start, expiresAt: start + 5_000 + TTL });
  });

  test('release frees the lease at once, and only its holder can release it', async () => {
    const { a, b } = await twoProcesses();
    await a.tryAcquireLease('monitor', 'a', TTL);
    expect(await b.releaseLease('monitor', 'b')).toBe(false);
    expect(await b.tryAcquireLease('monitor', 'b', TTL)).toBe(false);
    expect(await a.releaseLease('monitor', 'a')).toBe(true);
    expect(await b.tryAcquireLease('monitor', 'b', TTL)).toBe(true);
  });

  test('leases by different names are independent', async () => {
    const { a, b } = await twoProcesses();
    expect(await a.tryAcquireLease('monitor', 'a', TTL)).toBe(true);
    expect(await b.tryAcquireLease('other', 'b', TTL)).toBe(true);
  });

  // Stores in one process on one SQLite file block each other's synchronous connection; SQLite
  // has one writer at a time anyway. PostgreSQL is where concurrent transactions can interleave.
  test.runIf(database.dialect === 'postgres')('many processes racing for a free lease: exactly one wins', async () => {
    const clock = manualClock();
    const stores = await Promise.all(Array.from({ length: 6 }, () => database.open({ now: clock.now, listen: false })));
    for (let round = 0; round < 5; round += 1) {
      const results = await Promise.all(stores.map((store, index) => store.tryAcquireLease(`race-${round}`, `p${index}`, TTL)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await stores[0]?.leaseHolder(`race-${round}`))?.owner).toBe(`p${winner}`);
    }
  });
});
