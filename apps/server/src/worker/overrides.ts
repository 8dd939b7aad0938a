import type { Router } from '@mailroute/core';
import type { MailStore, ProviderState } from '@mailroute/store';

/**
 * Operator overrides (see `providerStates` in the store for what each state means) live in
 * the database so every process obeys them, restarts included. The router asks on every
 * send, so the answer comes from memory, refreshed on a timer; each refresh also brings the
 * breakers of the router in use in line with `forced_open`.
 */
export interface ProviderOverrides {
  /** False for a drained or disabled provider: the router passes over it. */
  isEnabled(providerName: string): boolean;
  /** The router whose breakers follow `forced_open`; applied at once, then on every refresh. */
  follow(router: () => Router): void;
  refresh(): Promise<void>;
  stop(): void;
}

export async function watchProviderOverrides(
  store: MailStore,
  refreshMs: number,
  onError: (error: unknown) => void,
): Promise<ProviderOverrides> {
  let states = new Map<string, ProviderState>();
  let current: (() => Router) | undefined;

  const apply = () => {
    const router = current?.();
    if (!router) return;
    for (const health of router.health()) {
      const forceOpen = states.get(health.name) === 'forced_open';
      if (forceOpen && !health.forced) router.setBreaker(health.name, 'open');
      // Only a breaker this process forced is closed on undo: one open from failures stays open.
      if (!forceOpen && health.forced) router.setBreaker(health.name, 'closed');
    }
  };
  const refresh = async () => {
    const records = await store.listProviderStates();
    const previous = states;
    states = new Map(records.map((record) => [record.provider, record.state]));
    apply();
    const router = current?.();
    if (!router) return;
    for (const name of router.providerNames()) {
      if (states.get(name) === 'disabled' && previous.get(name) !== 'disabled') router.cutInFlight(name);
    }
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(onError), refreshMs);
  timer.unref();
  return {
    isEnabled: (providerName) => {
      const state = states.get(providerName);
      return state !== 'drained' && state !== 'disabled';
    },
    follow(router) {
      current = router;
      apply();
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
