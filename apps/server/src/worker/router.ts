import { createRouter, type Provider, type Router } from '@mailroute/core';
import type { MailrouteConfig } from '../config/schema.js';
import { createProvider } from './providers.js';

/**
 * Builds the router from configuration. `isEnabled` reads the operator overrides the worker
 * keeps refreshed from the database, so a provider disabled in one process is skipped by all.
 * When any provider (or the router) cannot be built, the providers already built are closed
 * before the error is thrown: a rejected reload leaves no pools or sockets behind.
 */
export async function buildRouter(
  config: MailrouteConfig,
  isEnabled: (providerName: string) => boolean,
  create: (config: MailrouteConfig['providers'][number]) => Promise<Provider> = createProvider,
): Promise<Router> {
  const { routing } = config;
  const built = await Promise.allSettled(config.providers.map(create));
  const providers = built.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = built.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return createRouter({
      strategy: routing.strategy,
      ambiguousPolicy: routing.ambiguousPolicy,
      breaker: routing.breaker,
      isEnabled,
      providers: config.providers.map((providerConfig, index) => ({
        provider: providers[index] as Provider,
        weight: routing.weights[providerConfig.name] ?? 1,
        breaker: routing.providerBreakers[providerConfig.name] ?? {},
      })),
    });
  } catch (error) {
    await Promise.allSettled(providers.map((provider) => provider.close()));
    throw error;
  }
}
