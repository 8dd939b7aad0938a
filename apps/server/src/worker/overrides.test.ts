import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepted, createRouter, mailError, type Provider, type Router, rejected } from '@mailroute/core';
import { createScriptedProvider, sampleMessage } from '@mailroute/core/testing';
import { createStore, type MailStore } from '@mailroute/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProviderOverrides, watchProviderOverrides } from './overrides.js';

let dir: string;
let store: MailStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroute-overrides-'));
  store = await createStore({ url: `file:${join(dir, 'db.sqlite')}` });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function twoProviders(overrides: ProviderOverrides): Router {
  return createRouter({
    isEnabled: overrides.isEnabled,
    providers: [{ provider: createScriptedProvider('primary') }, { provider: createScriptedProvider('backup') }],
  });
}

const sentThrough = async (router: Router) => {
  const result = await router.send(sampleMessage());
  return result.status === 'sent' ? result.provider : result.status;
};

describe('provider overrides', () => {
  it('drained and disabled providers are passed over; forced_open holds the breaker open until undone', async () => {
    const overrides = await watchProviderOverrides(store, 60_000, () => {});
    let router = twoProviders(overrides);
    overrides.follow(() => router);
    try {
      expect(await sentThrough(router)).toBe('primary');

      for (const state of ['drained', 'disabled'] as const) {
        await store.setProviderState('primary', state);
        await overrides.refresh();
        expect(overrides.isEnabled('primary')).toBe(false);
        expect(router.health()[0]).toMatchObject({ state: 'closed' });
        expect(await sentThrough(router)).toBe('backup');
      }

      await store.setProviderState('primary', 'forced_open', 'status page: SendGrid outage');
      await overrides.refresh();
      expect(overrides.isEnabled('primary')).toBe(true);
      expect(router.health()[0]).toMatchObject({ name: 'primary', state: 'open', forced: true });
      expect(await sentThrough(router)).toBe('backup');

      // A reload builds new breakers (closed): following the new router forces it again at once.
      const old = router;
      router = twoProviders(overrides);
      overrides.follow(() => router);
      await old.close();
      expect(router.health()[0]).toMatchObject({ state: 'open', forced: true });

      await store.setProviderState('primary', 'enabled');
      await overrides.refresh();
      expect(router.health()[0]).toMatchObject({ state: 'closed' });
      expect(router.health()[0]).not.toHaveProperty('forced');
      expect(await sentThrough(router)).toBe('primary');
    } finally {
      overrides.stop();
      await router.close();
    }
  });

  it('draining lets a send in flight finish there; disabling cuts it and it fails over', async () => {
    const overrides = await watchProviderOverrides(store, 60_000, () => {});
    const slow = (name: string): Provider => ({
      name,
      type: 'test',
      send: (_message, { signal }) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(accepted(`${name}-id`)), 300);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(rejected(mailError('PROVIDER_UNREACHABLE', 'aborted', { provider: name, detail: { requestWritten: false } })));
          });
        }),
      verify: async () => ({ ok: true }),
      close: async () => {},
    });
    const router = createRouter({
      isEnabled: overrides.isEnabled,
      providers: [{ provider: slow('primary') }, { provider: createScriptedProvider('backup') }],
    });
    overrides.follow(() => router);
    try {
      const drained = router.send(sampleMessage());
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.setProviderState('primary', 'drained');
      await overrides.refresh();
      const finished = await drained;
      expect(finished.status === 'sent' && finished.provider).toBe('primary');

      await store.setProviderState('primary', 'enabled');
      await overrides.refresh();
      const disabled = router.send(sampleMessage());
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.setProviderState('primary', 'disabled', 'key leaked');
      await overrides.refresh();
      const cut = await disabled;
      expect(cut.status === 'sent' && cut.provider).toBe('backup');
      expect(cut.attempts[0]).toMatchObject({ provider: 'primary', error: { code: 'PROVIDER_DISABLED' } });
    } finally {
      overrides.stop();
      await router.close();
    }
  });

  it('undoing force-open leaves alone a breaker that failures opened', async () => {
    const overrides = await watchProviderOverrides(store, 60_000, () => {});
    const router = createRouter({
      providers: [{ provider: createScriptedProvider('primary', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' }) }],
      breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 },
    });
    overrides.follow(() => router);
    try {
      await router.send(sampleMessage());
      expect(router.health()[0]).toMatchObject({ state: 'open' });
      await store.setProviderState('primary', 'enabled');
      await overrides.refresh();
      expect(router.health()[0]).toMatchObject({ state: 'open' });
    } finally {
      overrides.stop();
      await router.close();
    }
  });

  it('a second process sees the state on its next refresh, and a restart reads it at start', async () => {
    const first = await watchProviderOverrides(store, 50, () => {});
    await store.setProviderState('primary', 'drained', 'moving to ses');
    const deadline = Date.now() + 2_000;
    while (first.isEnabled('primary') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.isEnabled('primary')).toBe(false);
    first.stop();
    const restarted = await watchProviderOverrides(store, 60_000, () => {});
    expect(restarted.isEnabled('primary')).toBe(false);
    restarted.stop();
  });
});
