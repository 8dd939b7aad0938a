import { isDeepStrictEqual } from 'node:util';
import { createRouter, mergeBreakerOptions, type Provider, type RoutedProvider, type Router } from '@mailroute/core';
import type { MailrouteConfig, ProviderConfig } from '../config/schema.js';
import { createProvider } from './providers.js';

/** The router a reload replaces, with the configuration it was built from. */
export interface PreviousRouter {
  readonly router: Router;
  readonly config: MailrouteConfig;
}

/** Everything a provider's connection and breaker are made of (its weight is not: that is routing). */
function settingsOf(config: MailrouteConfig, provider: ProviderConfig) {
  return { provider, breaker: mergeBreakerOptions(config.routing.breaker, config.routing.providerBreakers[provider.name]) };
}

/** Names of the providers whose settings are the same in both configurations. */
export function unchangedProviders(before: MailrouteConfig, after: MailrouteConfig): Set<string> {
  const old = new Map(before.providers.map((provider) => [provider.name, settingsOf(before, provider)]));
  return new Set(
    after.providers
      .filter((provider) => {
        const previous = old.get(provider.name);
        return previous !== undefined && isDeepStrictEqual(previous, settingsOf(after, provider));
      })
      .map((provider) => provider.name),
  );
}

/**
 * Builds the router from configuration. `isEnabled` reads the operator overrides the worker
 * keeps refreshed from the database, so a provider disabled in one process is skipped by all.
 * On a reload, a provider whose settings did not change keeps its connection and breaker
 * (state, counts, open-since) from the previous router: a failing provider stays open and an
 * open incident stays true. Only new or changed providers are built. When any of them (or the
 * router) cannot be built, the providers already built are closed before the error is thrown:
 * a rejected reload leaves no pools or sockets behind, and the previous router keeps its own.
 */
export async function buildRouter(
  config: MailrouteConfig,
  isEnabled: (providerName: string) => boolean,
  create: (config: ProviderConfig) => Promise<Provider> = createProvider,
  previous?: PreviousRouter,
): Promise<Router> {
  const { routing } = config;
  const kept = previous ? unchangedProviders(previous.config, config) : new Set<string>();
  for (const name of kept) if (!previous?.router.providerNames().includes(name)) kept.delete(name);
  const built = await Promise.allSettled(
    config.providers.map((providerConfig) => (kept.has(providerConfig.name) ? Promise.resolve(undefined) : create(providerConfig))),
  );
  const providers = built.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  try {
    const failed = built.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return createRouter({
      strategy: routing.strategy,
      ambiguousPolicy: routing.ambiguousPolicy,
      breaker: routing.breaker,
      isEnabled,
      ...(previous ? { previous: previous.router } : {}),
      providers: config.providers.map((providerConfig, index): RoutedProvider => {
        const weight = routing.weights[providerConfig.name] ?? 1;
        const provider = providers[index];
        return provider
          ? { provider, weight, breaker: routing.providerBreakers[providerConfig.name] ?? {} }
          : { kept: providerConfig.name, weight };
      }),
    });
  } catch (error) {
    await Promise.allSettled(providers.flatMap((provider) => (provider ? [provider.close()] : [])));
    throw error;
  }
}
