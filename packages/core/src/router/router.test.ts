import { describe, expect, it } from 'vitest';
import { mailError } from '../errors.js';
import { accepted, type Provider, rejected } from '../provider.js';
import { createScriptedProvider, sampleMessage } from '../testing.js';
import type { BreakerState } from './breaker.js';
import { createRouter } from './router.js';

/** Deterministic PRNG so weight tests do not flake. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('router: priority failover', () => {
  it('walks providers in order and fails over on provider faults and rate limits', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE', init: { detail: { status: 503 } } });
    const b = createScriptedProvider('b', { kind: 'fail', code: 'RATE_LIMITED', init: { retryAfterMs: 1000 } });
    const c = createScriptedProvider('c');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }, { provider: c }] });
    const failovers: string[] = [];
    router.on('failover', (event) => failovers.push(event.from));

    const result = await router.send(sampleMessage());

    expect(result.status).toBe('sent');
    if (result.status !== 'sent') throw new Error('unreachable');
    expect(result.provider).toBe('c');
    expect(result.providerMessageId).toBe('c-1');
    expect(result.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.error?.code])).toEqual([
      ['a', 'failed', 'PROVIDER_UNAVAILABLE'],
      ['b', 'failed', 'RATE_LIMITED'],
      ['c', 'accepted', undefined],
    ]);
    expect(result.attempts[0]?.detail).toEqual({ status: 503 });
    expect(failovers).toEqual(['a', 'b']);
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([1, 1, 1]);
    await router.close();
  });

  it('uses only the first provider while it is healthy', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }] });
    for (let i = 0; i < 20; i += 1) await router.send(sampleMessage());
    expect(a.accepted).toHaveLength(20);
    expect(b.calls).toHaveLength(0);
    await router.close();
  });

  it('classifies a provider that throws instead of returning, and fails over', async () => {
    const thrower: Provider = {
      name: 'thrower',
      type: 'broken',
      send: async () => {
        throw new Error('boom with SG.abcdefghijklmnop.qrstuvwxyz0123456789');
      },
      verify: async () => ({ ok: true }),
      close: async () => {},
    };
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: thrower }, { provider: b }] });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('sent');
    expect(result.attempts[0]?.error?.code).toBe('PROVIDER_ERROR');
    expect(result.attempts[0]?.error?.category).toBe('provider');
    await router.close();
  });

  it('refuses two providers with one name', () => {
    expect(() =>
      createRouter({ providers: [{ provider: createScriptedProvider('x') }, { provider: createScriptedProvider('x') }] }),
    ).toThrow(/used twice/);
  });
});

describe('router: weights', () => {
  it('gives each provider a share of first choices close to its weight, keeping the others as failover', async () => {
    const heavy = createScriptedProvider('heavy');
    const light = createScriptedProvider('light');
    const standby = createScriptedProvider('standby');
    const router = createRouter({
      strategy: 'weighted',
      random: seeded(42),
      providers: [
        { provider: heavy, weight: 3 },
        { provider: light, weight: 1 },
        { provider: standby, weight: 0 },
      ],
    });
    const total = 4000;
    for (let i = 0; i < total; i += 1) await router.send(sampleMessage());
    const share = heavy.accepted.length / total;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
    expect(light.accepted.length).toBe(total - heavy.accepted.length);
    expect(standby.calls).toHaveLength(0);

    heavy.behaviour = { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' };
    light.behaviour = { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' };
    const result = await router.send(sampleMessage());
    expect(result.status === 'sent' && result.provider).toBe('standby');
    await router.close();
  });
});

describe('router: circuit breaker', () => {
  it('reports an opened breaker with the very time its half-open is counted from', async () => {
    // A clock that moves on every read: two separate reads would disagree.
    let clock = 1_000_000;
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const router = createRouter({
      providers: [{ provider: a }, { provider: createScriptedProvider('b') }],
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
      now: () => {
        clock += 1;
        return clock;
      },
    });
    const opened: number[] = [];
    router.on('breaker', (event) => {
      if (event.state === 'open') opened.push(event.at);
    });
    for (let i = 0; i < 2; i += 1) await router.send(sampleMessage());
    expect(opened).toHaveLength(1);
    expect(router.health()[0]?.halfOpenAt).toBe((opened[0] ?? 0) + 60_000);
    await router.close();
  });

  it('opens after the volume threshold, skips the provider, half-opens after the reset timeout and closes on success', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const b = createScriptedProvider('b');
    const router = createRouter({
      providers: [{ provider: a }, { provider: b }],
      breaker: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 300 },
    });
    const states: BreakerState[] = [];
    router.on('breaker', (event) => states.push(event.state));

    for (let i = 0; i < 4; i += 1) await router.send(sampleMessage());
    expect(router.health()[0]?.state).toBe('closed');
    await router.send(sampleMessage());
    expect(router.health()[0]?.state).toBe('open');
    expect(a.calls).toHaveLength(5);

    const skippedResult = await router.send(sampleMessage());
    expect(a.calls).toHaveLength(5);
    expect(skippedResult.status).toBe('sent');
    expect(skippedResult.skipped.map((skip) => [skip.provider, skip.error.code])).toEqual([['a', 'BREAKER_OPEN']]);
    expect(router.health()[0]?.halfOpenAt).toBeGreaterThan(Date.now());

    await sleep(350);
    expect(router.health()[0]?.state).toBe('half_open');
    a.behaviour = { kind: 'accept' };
    const probe = await router.send(sampleMessage());
    expect(probe.status === 'sent' && probe.provider).toBe('a');
    expect(router.health()[0]?.state).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'closed']);
    await router.close();
  });

  it('reopens when the half-open probe fails', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const b = createScriptedProvider('b');
    const router = createRouter({
      providers: [{ provider: a }, { provider: b }],
      breaker: { volumeThreshold: 2, resetTimeoutMs: 100 },
    });
    await router.send(sampleMessage());
    await router.send(sampleMessage());
    expect(router.health()[0]?.state).toBe('open');
    await sleep(150);
    await router.send(sampleMessage());
    expect(a.calls).toHaveLength(3);
    expect(router.health()[0]?.state).toBe('open');
    await router.close();
  });

  it('cuts a hung provider at the timeout and never has more calls in flight than the capacity', async () => {
    const hung = createScriptedProvider('hung', { kind: 'hang' });
    const b = createScriptedProvider('b');
    const router = createRouter({
      providers: [{ provider: hung, breaker: { capacity: 4 } }, { provider: b }],
      breaker: { timeoutMs: 150, volumeThreshold: 1000 },
    });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => router.send(sampleMessage())));
    const elapsed = Date.now() - started;

    expect(hung.maxInFlight).toBe(4);
    expect(hung.inFlight).toBe(0);
    expect(results.every((result) => result.status === 'sent' && result.provider === 'b')).toBe(true);
    const codes = results.map((result) => result.attempts[0]?.error?.code);
    expect(codes.filter((code) => code === 'TIMEOUT')).toHaveLength(4);
    expect(codes.filter((code) => code === 'PROVIDER_BUSY')).toHaveLength(16);
    expect(elapsed).toBeLessThan(1000);
    await router.close();
  });

  it('a burst beyond capacity is refused as busy without opening the breaker of a healthy provider', async () => {
    const slow = createScriptedProvider('slow', { kind: 'accept', latencyMs: 50 });
    const router = createRouter({
      providers: [{ provider: slow, breaker: { capacity: 5 } }],
      breaker: { volumeThreshold: 5, errorThresholdPercentage: 50 },
    });
    const first = await Promise.all(Array.from({ length: 40 }, () => router.send(sampleMessage())));
    expect(first.filter((result) => result.status === 'sent')).toHaveLength(5);
    expect(first.filter((result) => result.attempts[0]?.error?.code === 'PROVIDER_BUSY')).toHaveLength(35);
    expect(router.health()[0]?.state).toBe('closed');
    const after = await router.send(sampleMessage());
    expect(after.status).toBe('sent');
    await router.close();
  });

  it('refusals count as failures once a full provider has finished nothing for a second: a hang opens the breaker before the timeout', async () => {
    const hung = createScriptedProvider('hung', { kind: 'hang' });
    const b = createScriptedProvider('b');
    const router = createRouter({
      providers: [{ provider: hung, breaker: { capacity: 2 } }, { provider: b }],
      breaker: { timeoutMs: 5_000, volumeThreshold: 3, errorThresholdPercentage: 50 },
    });
    const held = [router.send(sampleMessage()), router.send(sampleMessage())];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const early = await Promise.all(Array.from({ length: 5 }, () => router.send(sampleMessage())));
    expect(
      early.every((result) => result.status === 'sent' && result.provider === 'b' && result.attempts[0]?.error?.code === 'PROVIDER_BUSY'),
    ).toBe(true);
    expect(router.health()[0]?.state).toBe('closed');

    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const late = await Promise.all(Array.from({ length: 5 }, () => router.send(sampleMessage())));
    expect(late.every((result) => result.status === 'sent' && result.provider === 'b')).toBe(true);
    expect(router.health()[0]?.state).toBe('open');
    expect(hung.maxInFlight).toBe(2);
    await router.close();
    await Promise.all(held);
  });

  it('classifies a call aborted before its request was written as unreachable, not ambiguous', async () => {
    const slowConnect: Provider = {
      name: 'slow-connect',
      type: 'test',
      send: (_message, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () =>
            resolve(rejected(mailError('PROVIDER_UNREACHABLE', 'connect aborted', { detail: { requestWritten: false } }))),
          );
        }),
      verify: async () => ({ ok: true }),
      close: async () => {},
    };
    const router = createRouter({ providers: [{ provider: slowConnect }], breaker: { timeoutMs: 50 }, ambiguousPolicy: 'confirm' });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('retry');
    expect(result.attempts[0]?.error?.code).toBe('PROVIDER_UNREACHABLE');
    await router.close();
  });

  it('accepts a provider answer that arrives just after the timeout within the grace period', async () => {
    const late: Provider = {
      name: 'late',
      type: 'test',
      send: () => new Promise((resolve) => setTimeout(() => resolve(accepted('late-1')), 70)),
      verify: async () => ({ ok: true }),
      close: async () => {},
    };
    const router = createRouter({ providers: [{ provider: late }], breaker: { timeoutMs: 50 } });
    const result = await router.send(sampleMessage());
    expect(result.status === 'sent' && result.providerMessageId).toBe('late-1');
    await router.close();
  });

  it('lets an operator force a breaker open and close it again', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }] });
    router.setBreaker('a', 'open');
    expect((await router.send(sampleMessage())).status === 'sent' && b.accepted.length).toBe(1);
    router.setBreaker('a', 'closed');
    await router.send(sampleMessage());
    expect(a.accepted).toHaveLength(1);
    expect(() => router.setBreaker('nope', 'open')).toThrow(/unknown provider/);
    await router.close();
  });

  it('cuts calls in flight to a disabled provider: unwritten ones fail over, written ones are ambiguous', async () => {
    /** Answers after 5 s unless aborted; says whether its request was written, as real providers do. */
    const slow = (name: string, written: boolean): Provider => ({
      name,
      type: 'test',
      send: (_message, { signal }) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(accepted(`${name}-1`)), 5_000);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            const code = written ? 'TIMEOUT' : 'PROVIDER_UNREACHABLE';
            resolve(rejected(mailError(code, 'aborted', { provider: name, detail: { requestWritten: written } })));
          });
        }),
      verify: async () => ({ ok: true }),
      close: async () => {},
    });
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: slow('a', false) }, { provider: b }] });
    const pending = router.send(sampleMessage());
    await sleep(30);
    const startedAt = Date.now();
    router.cutInFlight('a');
    const result = await pending;
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(result.status === 'sent' && result.provider).toBe('b');
    expect(result.attempts[0]?.error).toMatchObject({ code: 'PROVIDER_DISABLED', message: expect.stringContaining('disabled') });
    // The cut is not sticky: a call after it (a fresh deadline window) is cut only by the next cut.
    const later = router.send(sampleMessage());
    await sleep(30);
    router.cutInFlight('a');
    expect((await later).attempts[0]?.error?.code).toBe('PROVIDER_DISABLED');
    await router.close();

    const held = createRouter({ providers: [{ provider: slow('a', true) }, { provider: b }], ambiguousPolicy: 'confirm' });
    const ambiguous = held.send(sampleMessage());
    await sleep(30);
    held.cutInFlight('a');
    const outcome = await ambiguous;
    expect(outcome.status).toBe('held');
    expect(outcome.status === 'held' && outcome.error).toMatchObject({ code: 'TIMEOUT', category: 'ambiguous' });
    expect(() => held.cutInFlight('nope')).toThrow(/unknown provider/);
    await held.close();
  });

  it('keeps a forced breaker open past the reset timeout (no probe) until it is closed', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], breaker: { resetTimeoutMs: 40 } });
    const states: BreakerState[] = [];
    router.on('breaker', (event) => states.push(event.state));
    router.setBreaker('a', 'open');
    await sleep(150);
    const result = await router.send(sampleMessage());
    expect(result.status === 'sent' && result.provider).toBe('b');
    expect(result.skipped[0]?.error).toMatchObject({ code: 'BREAKER_OPEN', message: expect.stringContaining('forced open') });
    expect(a.accepted).toHaveLength(0);
    expect(router.health()[0]).toMatchObject({ name: 'a', state: 'open', forced: true });
    expect(router.health()[0]?.halfOpenAt).toBeUndefined();
    // Three reset timeouts went by, yet listeners heard one change.
    expect(states).toEqual(['open']);
    router.setBreaker('a', 'closed');
    expect(router.health()[0]).not.toHaveProperty('forced');
    await router.send(sampleMessage());
    expect(a.accepted).toHaveLength(1);
    expect(states).toEqual(['open', 'closed']);
    await router.close();
  });
});

describe('router: message faults', () => {
  it('neither fails over nor trips the breaker', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'INVALID_RECIPIENT' });
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], breaker: { volumeThreshold: 3 } });
    for (let i = 0; i < 30; i += 1) {
      const result = await router.send(sampleMessage());
      expect(result.status).toBe('failed');
      if (result.status === 'failed') expect(result.error.retryable).toBe(false);
    }
    expect(b.calls).toHaveLength(0);
    expect(router.health()[0]?.state).toBe('closed');
    expect(router.health()[0]?.failures).toBe(0);
    await router.close();
  });
});

describe('router: operator overrides and exclusions', () => {
  it('skips disabled providers without calling them', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    const disabled = new Set(['a']);
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], isEnabled: (name) => !disabled.has(name) });
    const result = await router.send(sampleMessage());
    expect(result.status === 'sent' && result.provider).toBe('b');
    expect(result.skipped.map((skip) => [skip.provider, skip.error.code])).toEqual([['a', 'PROVIDER_DISABLED']]);
    expect(a.calls).toHaveLength(0);
    expect(router.health()[0]?.enabled).toBe(false);

    disabled.clear();
    await router.send(sampleMessage());
    expect(a.accepted).toHaveLength(1);
    await router.close();
  });

  it('honours a per-message exclusion list', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }] });
    const result = await router.send(sampleMessage(), { exclude: ['a'] });
    expect(result.status === 'sent' && result.provider).toBe('b');
    await router.close();
  });
});

describe('router: ambiguous outcomes', () => {
  it('holds the message under the confirm policy and does not try another provider', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'CONNECTION_RESET' });
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], ambiguousPolicy: 'confirm' });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('held');
    if (result.status === 'held') {
      expect(result.provider).toBe('a');
      expect(result.error.category).toBe('ambiguous');
    }
    expect(b.calls).toHaveLength(0);
    await router.close();
  });

  it('resends through the next provider at once under the resend policy', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'GATEWAY_TIMEOUT' });
    const b = createScriptedProvider('b');
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], ambiguousPolicy: 'resend' });
    const result = await router.send(sampleMessage());
    expect(result.status === 'sent' && result.provider).toBe('b');
    await router.close();
  });
});

describe('router: all providers down', () => {
  it('returns one retry result with the earliest Retry-After', async () => {
    const now = 1_000_000;
    const a = createScriptedProvider('a', { kind: 'fail', code: 'RATE_LIMITED', init: { retryAfterMs: 5000 } });
    const b = createScriptedProvider('b', { kind: 'fail', code: 'RATE_LIMITED', init: { retryAfterMs: 2000 } });
    const router = createRouter({ providers: [{ provider: a }, { provider: b }], now: () => now });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('retry');
    if (result.status !== 'retry') throw new Error('unreachable');
    expect(result.retryAt).toBe(now + 2000);
    expect(result.error.code).toBe('NO_PROVIDER');
    expect(result.error.retryable).toBe(true);
    expect(result.error.message).toMatch(/last: b scripted RATE_LIMITED/);
    expect(result.attempts).toHaveLength(2);
    await router.close();
  });

  it('gives no retry time when a provider failed without a hint, so backoff decides', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'RATE_LIMITED', init: { retryAfterMs: 5000 } });
    const b = createScriptedProvider('b', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const router = createRouter({ providers: [{ provider: a }, { provider: b }] });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('retry');
    expect(result.status === 'retry' && result.retryAt).toBeUndefined();
    await router.close();
  });

  it('uses the breaker reset time of an open provider as its hint', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const router = createRouter({ providers: [{ provider: a }], breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 } });
    await router.send(sampleMessage());
    const before = Date.now();
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('retry');
    if (result.status !== 'retry') throw new Error('unreachable');
    expect(result.attempts).toHaveLength(0);
    expect(result.skipped[0]?.error.code).toBe('BREAKER_OPEN');
    expect(result.retryAt).toBeGreaterThanOrEqual(before + 59_000);
    await router.close();
  });

  it('reports retry when every provider is disabled', async () => {
    const router = createRouter({ providers: [{ provider: createScriptedProvider('a') }], isEnabled: () => false });
    const result = await router.send(sampleMessage());
    expect(result.status).toBe('retry');
    expect(result.status === 'retry' && result.retryAt).toBeUndefined();
    await router.close();
  });
});

describe('router: a reload keeps what did not change', () => {
  it('a kept provider carries its breaker over; the old router no longer reports it nor closes it', async () => {
    const failing = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    let closed = 0;
    failing.close = async () => {
      closed += 1;
    };
    const breaker = { volumeThreshold: 2, resetTimeoutMs: 60_000 };
    const old = createRouter({ providers: [{ provider: failing }, { provider: createScriptedProvider('b') }], breaker });
    for (let n = 0; n < 3 && old.health()[0]?.state !== 'open'; n += 1) await old.send(sampleMessage());
    const opened = old.health()[0];
    expect(opened).toMatchObject({ state: 'open', since: expect.any(Number), notClosedSince: opened?.since });

    const next = createRouter({
      previous: old,
      providers: [{ kept: 'a' }, { provider: createScriptedProvider('b') }],
      breaker,
    });
    expect(next.health()[0]).toEqual(opened);
    expect(next.health()[1]).toMatchObject({ state: 'closed', fires: 0 });
    const heardOld: BreakerState[] = [];
    const heardNext: BreakerState[] = [];
    old.on('breaker', (event) => heardOld.push(event.state));
    next.on('breaker', (event) => heardNext.push(event.state));
    next.setBreaker('a', 'closed');
    expect([heardOld, heardNext]).toEqual([[], ['closed']]);

    // The old router retires: it leaves the kept provider's connections alone.
    await old.close();
    expect(closed).toBe(0);
    await next.close();
    expect(closed).toBe(1);
  });

  it('a router that cannot be built takes nothing from the previous one', async () => {
    const old = createRouter({ providers: [{ provider: createScriptedProvider('a') }] });
    expect(() => createRouter({ previous: old, providers: [{ kept: 'a' }, { kept: 'a' }] })).toThrow(/used twice/);
    expect(() => createRouter({ previous: old, providers: [{ kept: 'a' }, { kept: 'z' }] })).toThrow(/previous router has none/);
    const heard: BreakerState[] = [];
    old.on('breaker', (event) => heard.push(event.state));
    old.setBreaker('a', 'open');
    expect(heard).toEqual(['open']);
    await old.close();
  });
});

describe('router: a round that calls no provider', () => {
  it('says what stopped it: every breaker open gives BREAKER_OPEN, no attempt, and the earliest probe time', async () => {
    let now = 1_000_000;
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const b = createScriptedProvider('b', { kind: 'fail', code: 'PROVIDER_UNREACHABLE' });
    const router = createRouter({
      providers: [{ provider: a }, { provider: b }],
      breaker: { volumeThreshold: 1, resetTimeoutMs: 30_000 },
      now: () => now,
    });
    const first = await router.send(sampleMessage());
    expect(first).toMatchObject({ status: 'retry', tried: true, error: { code: 'NO_PROVIDER' } });
    now += 1_000;
    const second = await router.send(sampleMessage());
    expect(second.status).toBe('retry');
    if (second.status !== 'retry') throw new Error('unreachable');
    expect(second.attempts).toEqual([]);
    expect(second.error.code).toBe('BREAKER_OPEN');
    expect(second.error.message).toBe('no provider was called (a: breaker open, b: breaker open)');
    expect(second.retryAt).toBe(1_000_000 + 30_000);
    expect(second.tried).toBe(false);

    const disabled = createRouter({ providers: [{ provider: createScriptedProvider('c') }], isEnabled: () => false });
    expect(await disabled.send(sampleMessage())).toMatchObject({ status: 'retry', attempts: [], error: { code: 'PROVIDER_DISABLED' } });
    await router.close();
    await disabled.close();
  });
});

describe('router: half-open probes', () => {
  it('a round whose only calls were probes did not try the message: tried is false', async () => {
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const router = createRouter({ providers: [{ provider: a }], breaker: { volumeThreshold: 1, resetTimeoutMs: 50 } });
    expect(await router.send(sampleMessage())).toMatchObject({ status: 'retry', tried: true });
    await sleep(80);
    expect(router.health()[0]?.state).toBe('half_open');
    const probe = await router.send(sampleMessage());
    expect(probe).toMatchObject({ status: 'retry', tried: false, error: { code: 'NO_PROVIDER' } });
    expect(probe.attempts).toHaveLength(1);
    await router.close();
  });
});
