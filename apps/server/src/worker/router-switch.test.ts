import { createRouter } from '@mailroute/core';
import { createScriptedProvider, sampleMessage } from '@mailroute/core/testing';
import { describe, expect, it } from 'vitest';
import { createRouterSwitch } from './router-switch.js';

function routerOver(name: string, latencyMs = 0) {
  const provider = createScriptedProvider(name, { kind: 'accept', latencyMs });
  let closed = false;
  const router = createRouter({ providers: [{ provider }] });
  const close = router.close;
  router.close = async () => {
    closed = true;
    await close();
  };
  return { provider, router, closed: () => closed };
}

describe('router switch', () => {
  it('sends in flight finish on the old router, which closes only afterwards; new sends use the new one', async () => {
    const old = routerOver('old', 80);
    const next = routerOver('next');
    const routers = createRouterSwitch(old.router);
    const inFlight = [routers.current().send(sampleMessage()), routers.current().send(sampleMessage())];
    await new Promise((resolve) => setTimeout(resolve, 10));
    routers.swap(next.router, 10_000);
    const after = await routers.current().send(sampleMessage());
    expect(after).toMatchObject({ status: 'sent', provider: 'next' });
    expect(old.closed()).toBe(false);
    const results = await Promise.all(inFlight);
    expect(results.map((result) => result.status)).toEqual(['sent', 'sent']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(old.closed()).toBe(true);
    expect(old.provider.accepted).toHaveLength(2);
    expect(next.provider.accepted).toHaveLength(1);
    await routers.close();
    expect(next.closed()).toBe(true);
  });

  it('an idle router closes at once; a stuck one by the backstop', async () => {
    const idle = routerOver('idle');
    const stuck = routerOver('stuck', 60_000);
    const last = routerOver('last');
    const routers = createRouterSwitch(idle.router);
    routers.swap(stuck.router, 50);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(idle.closed()).toBe(true);
    void routers.current().send(sampleMessage());
    routers.swap(last.router, 50);
    expect(stuck.closed()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(stuck.closed()).toBe(true);
    await routers.close();
  });
});
