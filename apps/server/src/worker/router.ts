import { createRouter, type Provider, type Router } from '@mailroute/core';
import type { MailrouteConfig } from '../config/schema.js';
import { createProvider } from './providers.js';

/**
 * Builds the router from configuration. `isEnabled` reads the operator overrides the worker
 * keeps refreshed from the database, so a provider disabled in one process is skipped by all.
 */
export async function buildRouter(config: MailrouteConfig, isEnabled: (providerName: string) => boolean): Promise<Router> {
  const { routing } = config;
  const providers = await Promise.all(config.providers.map(createProvider));
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
}
