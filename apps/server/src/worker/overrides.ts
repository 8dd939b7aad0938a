import type { MailStore } from '@mailroute/store';

/**
 * Operator overrides (disable / drain) live in the database so every process obeys them.
 * The router asks on every send, so the answer comes from memory, refreshed on a timer.
 */
export interface ProviderOverrides {
  isEnabled(providerName: string): boolean;
  refresh(): Promise<void>;
  stop(): void;
}

export async function watchProviderOverrides(
  store: MailStore,
  refreshMs: number,
  onError: (error: unknown) => void,
): Promise<ProviderOverrides> {
  let unavailable = new Set<string>();
  const refresh = async () => {
    const states = await store.listProviderStates();
    unavailable = new Set(states.filter((record) => record.state !== 'enabled').map((record) => record.provider));
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(onError), refreshMs);
  timer.unref();
  return {
    isEnabled: (providerName) => !unavailable.has(providerName),
    refresh,
    stop: () => clearInterval(timer),
  };
}
