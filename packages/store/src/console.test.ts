import { type DispatchOutcome, mailError, parseSearchQuery } from '@mailroute/core';
import { expect, test } from 'vitest';
import type { ProcessBreaker } from './heartbeats.js';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, failedAttempt, manualClock } from './test/fixtures.js';

function breaker(state: ProcessBreaker['state'], since: number): ProcessBreaker {
  return { type: 'sendgrid', state, since, enabled: true, fires: 1, successes: 1, failures: 0, rejects: 0, latencyMeanMs: 10 };
}

forEachDatabase('console sessions', (database) => {
  test('a session acts as its key until it expires, is deleted, or the key is revoked; only a hash of the token is stored', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const key = await store.createApiKey({ name: 'on call', scopes: ['read'], tenantId: 'hotel' });
    const session = await store.createSession({ keyId: key.id, ttlMs: 60_000 });
    expect(session.token).toMatch(/^mrs_/);
    expect(session.expiresAt).toBe(clock.now() + 60_000);
    expect(await store.authenticateSession(session.token)).toMatchObject({ key: { id: key.id, tenantId: 'hotel', name: 'on call' } });
    const stored = await database.query<{ id: string; key_id: string }>('SELECT id, key_id FROM dashboard_session');
    expect(stored).toEqual([{ id: expect.not.stringContaining(session.token), key_id: key.id }]);
    expect(JSON.stringify(stored)).not.toContain(key.key);

    clock.advance(60_000);
    expect(await store.authenticateSession(session.token)).toBeUndefined();

    const second = await store.createSession({ keyId: key.id, ttlMs: 60_000 });
    // The expired one was removed on the way.
    expect(await database.query('SELECT id FROM dashboard_session')).toHaveLength(1);
    expect(await store.deleteSession(second.token)).toBe(true);
    expect(await store.authenticateSession(second.token)).toBeUndefined();
    expect(await store.deleteSession(second.token)).toBe(false);

    const third = await store.createSession({ keyId: key.id, ttlMs: 60_000 });
    await store.revokeApiKey(key.id);
    expect(await store.authenticateSession(third.token)).toBeUndefined();
    await expect(store.createSession({ keyId: key.id, ttlMs: 60_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.authenticateSession('mrs_not-a-session')).toBeUndefined();
    expect(await store.authenticateSession(key.key)).toBeUndefined();
  });
});

forEachDatabase('provider audit', (database) => {
  test('every state change is recorded with who, when, the note and the state before and after', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    await store.setProviderState('sendgrid', 'drained', 'maintenance tonight', { keyId: 'k1', keyName: 'on call' });
    clock.advance(1_000);
    await store.setProviderState('sendgrid', 'enabled', 'maintenance done', { keyId: 'k2', keyName: 'lead' });
    clock.advance(1_000);
    await store.setProviderState('ses', 'disabled');

    const all = await store.listProviderAudit();
    expect(all.map((entry) => [entry.provider, entry.before.state, entry.after.state, entry.at])).toEqual([
      ['ses', 'enabled', 'disabled', start + 2_000],
      ['sendgrid', 'drained', 'enabled', start + 1_000],
      ['sendgrid', 'enabled', 'drained', start],
    ]);
    expect(all[0]).not.toHaveProperty('actor');
    expect(all[1]).toMatchObject({
      actor: { keyId: 'k2', keyName: 'lead' },
      note: 'maintenance done',
      before: { note: 'maintenance tonight' },
    });
    expect(await store.listProviderAudit({ provider: 'sendgrid', limit: 1 })).toMatchObject([{ after: { state: 'enabled' } }]);
    expect(await store.listProviderAudit({ since: start + 1_500 })).toHaveLength(1);
  });

  test('a refused state change records nothing', async () => {
    const store = await database.open();
    await expect(store.setProviderState('sendgrid', 'off' as never, 'x', { keyId: 'k', keyName: 'n' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await store.listProviderAudit()).toEqual([]);
  });
});

forEachDatabase('breaker events from heartbeats', (database) => {
  test('a heartbeat records each breaker whose state changed since the process last reported', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    const beat = (breakers: Record<string, ProcessBreaker>) =>
      store.recordHeartbeat({ id: 'w1', role: 'worker', host: 'h', pid: 1, startedAt: start, breakers });
    await beat({ sendgrid: breaker('closed', start), ses: breaker('closed', start) });
    await beat({ sendgrid: breaker('closed', start), ses: breaker('closed', start) });
    await beat({ sendgrid: breaker('open', start + 5_000), ses: breaker('closed', start) });
    await beat({ sendgrid: breaker('half_open', start + 35_000), ses: breaker('closed', start) });
    const events = await store.listBreakerEvents({ since: start + 1 });
    expect(events).toEqual([
      { process: 'w1', provider: 'sendgrid', from: 'closed', to: 'open', at: start + 5_000 },
      { process: 'w1', provider: 'sendgrid', from: 'open', to: 'half_open', at: start + 35_000 },
    ]);
    expect(await store.listBreakerEvents({ since: start })).toHaveLength(4);
    expect(await store.listBreakerEvents({ since: start, provider: 'ses' })).toEqual([
      { process: 'w1', provider: 'ses', to: 'closed', at: start },
    ]);
  });
});

forEachDatabase('message search', (database) => {
  /** Six messages a second apart with attempts, tags, keys and tenants to tell every filter apart. */
  async function seed(store: MailStore, clock: ReturnType<typeof manualClock>) {
    const ids: Record<string, string> = {};
    const add = async (name: string, overrides: Parameters<typeof content>[0], tenantId = 'hotel') => {
      ids[name] = (await store.enqueue(content(overrides), { tenantId })).id;
      clock.advance(1_000);
    };
    await add('welcome', { to: ['Alice@Example.org'], subject: 'Welcome to the hotel', tags: ['welcome'], idempotencyKey: 'signup-1' });
    await add('booking', { to: ['bob@example.org'], cc: ['desk@partner.example'], subject: 'Booking 100% confirmed', tags: ['booking'] });
    await add('dead', { to: ['carol@example.org'], subject: 'Your invoice', from: 'billing@hotel.example' });
    await add('failed', { to: ['dan@other.example'], subject: 'Late checkout' });
    await add('queued', { to: ['erin@example.org'], subject: 'Booking reminder', tags: ['booking', 'reminder'] });
    await add('spa', { to: ['alice@example.org'], subject: 'Welcome to the spa', tags: ['welcome'] }, 'spa');
    const claimed = await store.claim('w', 10, 60_000);
    const at = clock.now();
    const outcome = (id: string): DispatchOutcome => {
      if (id === ids.welcome)
        return {
          kind: 'sent' as const,
          id,
          provider: 'ses',
          providerMessageId: 'p1',
          attempts: [failedAttempt(id, at), acceptedAttempt(id, at + 1, 'ses', 'p1')],
        };
      if (id === ids.booking || id === ids.spa)
        return { kind: 'sent' as const, id, provider: 'sendgrid', providerMessageId: `p-${id}`, attempts: [acceptedAttempt(id, at)] };
      if (id === ids.dead)
        return {
          kind: 'dead' as const,
          id,
          reason: 'max_age' as const,
          error: mailError('NO_PROVIDER', 'all failed'),
          attempts: [failedAttempt(id, at)],
        };
      if (id === ids.failed)
        return {
          kind: 'failed' as const,
          id,
          error: mailError('INVALID_RECIPIENT', 'no such user'),
          attempts: [failedAttempt(id, at, 'ses')],
        };
      return { kind: 'retry' as const, id, at: at + 60_000, error: mailError('PROVIDER_UNAVAILABLE', 'later'), attempts: [] };
    };
    await store.complete(
      'w',
      claimed.map(({ message }) => outcome(message.id)),
    );
    return ids;
  }

  test('each filter, exclusion and bare words find exactly the right messages, newest first, within the tenant', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    const ids = await seed(store, clock);
    const name = Object.fromEntries(Object.entries(ids).map(([key, id]) => [id, key]));
    const search = async (q: string, tenant: 'hotel' | 'all' = 'hotel') => {
      const parsed = parseSearchQuery(q, clock.now());
      if (!parsed.ok) throw new Error(parsed.message);
      const page = await store.searchMessages({ query: parsed.query, ...(tenant === 'all' ? {} : { tenantId: tenant }) });
      return page.items.map((item) => name[item.id]);
    };
    expect(await search('')).toEqual(['queued', 'failed', 'dead', 'booking', 'welcome']);
    // The live view counts only the unsent statuses every second: the others read 0 then.
    expect(await store.countByStatus({ tenantId: 'hotel' }, ['dead', 'retrying'])).toMatchObject({
      dead: 1,
      retrying: 1,
      sent: 0,
      failed: 0,
    });
    expect(await store.countByStatus({ tenantId: 'hotel' })).toMatchObject({ dead: 1, retrying: 1, sent: 2, failed: 1 });
    expect(await search('', 'all')).toEqual(['spa', 'queued', 'failed', 'dead', 'booking', 'welcome']);
    expect(await search('to:alice@example.org')).toEqual(['welcome']);
    expect(await search('to:desk@partner.example')).toEqual(['booking']);
    expect(await search('to:@other.example')).toEqual(['failed']);
    expect(await search('from:billing@hotel.example')).toEqual(['dead']);
    expect(await search('-from:desk@hotel.example')).toEqual(['dead']);
    expect(await search('subject:booking')).toEqual(['queued', 'booking']);
    expect(await search('subject:"100%"')).toEqual(['booking']);
    expect(await search('subject:"10_%"')).toEqual([]);
    expect(await search('status:dead')).toEqual(['dead']);
    expect(await search('status:dead,failed')).toEqual(['failed', 'dead']);
    expect(await search('-status:sent')).toEqual(['queued', 'failed', 'dead']);
    expect(await search('provider:sendgrid')).toEqual(['dead', 'booking', 'welcome']);
    expect(await search('status:dead provider:sendgrid')).toEqual(['dead']);
    expect(await search('provider:ses')).toEqual(['failed', 'welcome']);
    expect(await search('-provider:sendgrid')).toEqual(['queued', 'failed']);
    expect(await search('tag:booking')).toEqual(['queued', 'booking']);
    expect(await search('tag:booking -tag:reminder')).toEqual(['booking']);
    expect(await search('key:signup-1')).toEqual(['welcome']);
    expect(await search('-key:signup-1')).toEqual(['queued', 'failed', 'dead', 'booking']);
    expect(await search(`id:${ids.dead}`)).toEqual(['dead']);
    expect(await search(`id:${ids.spa}`)).toEqual([]);
    expect(await search(`after:${new Date(start + 2_000).toISOString()}`)).toEqual(['queued', 'failed', 'dead']);
    expect(await search(`before:${new Date(start + 2_000).toISOString()}`)).toEqual(['booking', 'welcome']);
    expect(await search('after:5m')).toEqual(['queued', 'failed', 'dead', 'booking', 'welcome']);
    expect(await search('welcome')).toEqual(['welcome']);
    expect(await search('WELCOME', 'all')).toEqual(['spa', 'welcome']);
    expect(await search('example.org')).toEqual(['queued', 'dead', 'booking', 'welcome']);
    expect(await search('"late checkout"')).toEqual(['failed']);
    expect(await search('booking -reminder')).toEqual(['booking']);
  });

  test('keyset pages cover every match once, newest first, without bodies; a bad cursor is refused', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    await seed(store, clock);
    const everything = { terms: [] };
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.searchMessages({ query: everything, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        expect(item).not.toHaveProperty('text');
        expect(item).not.toHaveProperty('html');
        seen.push(item.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect([...seen].sort().reverse()).toEqual(seen);
    await expect(store.searchMessages({ query: everything, cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.searchMessages({ query: everything, limit: 501 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const exported: string[] = [];
    let exportCursor: string | undefined;
    do {
      const page = await store.exportSearch({
        query: everything,
        tenantId: 'hotel',
        limit: 3,
        ...(exportCursor ? { cursor: exportCursor } : {}),
      });
      exported.push(...page.rows.map((row) => row.id));
      exportCursor = page.nextCursor;
    } while (exportCursor);
    expect(exported).toEqual(seen.filter((id) => id !== seen[0]));
  });
});

forEachDatabase('attempt series', (database) => {
  test('attempts per provider and aligned bucket by outcome and category, with failovers counted on the provider that took the mail', async () => {
    const start = Date.UTC(2030, 0, 1, 9, 0, 0);
    const clock = manualClock(start);
    const store = await database.open({ now: clock.now });
    const a = await store.enqueue(content());
    const b = await store.enqueue(content());
    const c = await store.enqueue(content());
    const claimed = await store.claim('w', 10, 60_000);
    expect(claimed).toHaveLength(3);
    await store.complete('w', [
      // Minute 0: sendgrid fails a, ses takes it (a failover); sendgrid takes b.
      {
        kind: 'sent',
        id: a.id,
        provider: 'ses',
        providerMessageId: 'pa',
        attempts: [failedAttempt(a.id, start + 1_000), acceptedAttempt(a.id, start + 2_000, 'ses', 'pa')],
      },
      { kind: 'sent', id: b.id, provider: 'sendgrid', providerMessageId: 'pb', attempts: [acceptedAttempt(b.id, start + 59_999)] },
      // Minute 2: sendgrid fails c with a message fault.
      {
        kind: 'failed',
        id: c.id,
        error: mailError('INVALID_RECIPIENT', 'no such user'),
        attempts: [{ ...failedAttempt(c.id, start + 120_000), error: mailError('INVALID_RECIPIENT', 'no such user') }],
      },
    ]);
    const series = await store.attemptSeries({ from: start + 30_000, bucketMs: 60_000, providers: ['sendgrid', 'ses', 'smtp'] });
    expect(series).toEqual([
      { provider: 'sendgrid', at: start, accepted: 1, failedByCategory: { provider: 1 }, failovers: 0 },
      { provider: 'ses', at: start, accepted: 1, failedByCategory: {}, failovers: 1 },
      { provider: 'sendgrid', at: start + 120_000, accepted: 0, failedByCategory: { message: 1 }, failovers: 0 },
    ]);
    expect(await store.attemptSeries({ from: start, bucketMs: 600_000, providers: ['ses'] })).toEqual([
      { provider: 'ses', at: start, accepted: 1, failedByCategory: {}, failovers: 1 },
    ]);
    expect(await store.attemptSeries({ from: start + 180_000, bucketMs: 60_000, providers: ['sendgrid'] })).toEqual([]);
  });
});
