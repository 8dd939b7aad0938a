import type { Provider } from '@mailroute/core';
import { describe, expect, it } from 'vitest';
import { configSchema, type ProviderConfig } from '../config/schema.js';
import { createProvider } from './providers.js';
import { buildRouter } from './router.js';

/** Builds real (capture) providers and notes which were closed; names listed in `broken` cannot be built. */
function factory(broken: ReadonlySet<string> = new Set()) {
  const closed: string[] = [];
  const built: string[] = [];
  const create = async (config: ProviderConfig): Promise<Provider> => {
    if (broken.has(config.name)) throw new Error(`cannot build ${config.name}`);
    const provider = await createProvider(config);
    built.push(config.name);
    return {
      ...provider,
      close: async () => {
        closed.push(config.name);
        await provider.close();
      },
    };
  };
  return { create, built, closed };
}

const capture = (name: string) => ({ type: 'capture' as const, name });

describe('buildRouter', () => {
  it('a provider that cannot be built closes the ones already built before the error is thrown', async () => {
    const providers = factory(new Set(['b']));
    const config = configSchema.parse({ providers: [capture('a'), capture('b'), capture('c')] });
    await expect(buildRouter(config, () => true, providers.create)).rejects.toThrow('cannot build b');
    expect(providers.built.sort()).toEqual(['a', 'c']);
    expect(providers.closed.sort()).toEqual(['a', 'c']);
  });

  it('a router that cannot be made from the providers closes them all', async () => {
    const providers = factory();
    const config = configSchema.parse({ providers: [capture('a')] });
    await expect(
      buildRouter({ ...config, providers: [capture('a'), capture('a')] as ProviderConfig[] }, () => true, providers.create),
    ).rejects.toThrow(/used twice/);
    expect(providers.closed).toEqual(['a', 'a']);
  });

  it('builds a router over every provider when all can be built', async () => {
    const providers = factory();
    const router = await buildRouter(configSchema.parse({ providers: [capture('a'), capture('b')] }), () => true, providers.create);
    expect(router.providerNames()).toEqual(['a', 'b']);
    expect(providers.closed).toEqual([]);
    await router.close();
    expect(providers.closed.sort()).toEqual(['a', 'b']);
  });
});
