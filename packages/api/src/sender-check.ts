import type { MessageContent } from '@mailroute/core';
import { DEFAULT_TENANT, type MailStore } from '@mailroute/store';
import { ApiFault } from './errors.js';

/**
 * How long a tenant's sender list is trusted without asking the database again. A change made
 * through this process applies at once; made through another api process, within this time.
 */
export const SENDER_CACHE_MS = 5_000;
const MAX_CACHED_TENANTS = 10_000;

/**
 * What a tenant may put in `from`. A tenant with a list may use the addresses on it and any
 * address at a listed domain (that domain exactly). Without a list the default tenant may use
 * any sender, so a single-tenant install works as before; any other tenant may use none, so a
 * tenant added to a shared service cannot send as the others until an operator lists its senders.
 */
export type SenderPolicy =
  | { readonly kind: 'any' }
  | { readonly kind: 'listed'; readonly senders: ReadonlySet<string> }
  | { readonly kind: 'none' };

export function senderPolicy(tenantId: string, senders: readonly string[]): SenderPolicy {
  if (senders.length > 0) return { kind: 'listed', senders: new Set(senders) };
  return tenantId === DEFAULT_TENANT ? { kind: 'any' } : { kind: 'none' };
}

/** SENDER_NOT_ALLOWED at `from.email` when the policy refuses the message's sender. */
export function senderFault(content: Pick<MessageContent, 'from'>, policy: SenderPolicy, tenantId: string): ApiFault | undefined {
  if (policy.kind === 'any') return undefined;
  const email = content.from.email.toLowerCase();
  if (policy.kind === 'listed' && (policy.senders.has(email) || policy.senders.has(email.slice(email.lastIndexOf('@') + 1)))) {
    return undefined;
  }
  const why =
    policy.kind === 'none'
      ? `tenant ${tenantId} has no allowed senders yet (an operator lists them with senders.set)`
      : `not among the senders allowed for tenant ${tenantId} (senders.list shows them)`;
  return new ApiFault('SENDER_NOT_ALLOWED', `from ${content.from.email}: ${why}`, [
    { path: 'from.email', message: `${content.from.email} is not an allowed sender` },
  ]);
}

export interface SenderChecker {
  policy(tenantId: string): Promise<SenderPolicy>;
  /** Stops trusting a tenant's cached list at once (it was just changed). */
  forget(tenantId: string): void;
}

/** A send would otherwise cost a query for the sender list; concurrent misses share one. */
export function createSenderChecker(store: Pick<MailStore, 'listSenders'>): SenderChecker {
  const entries = new Map<string, { readonly policy: Promise<SenderPolicy>; readonly until: number }>();
  return {
    policy(tenantId) {
      const hit = entries.get(tenantId);
      if (hit && hit.until > performance.now()) return hit.policy;
      const policy = store.listSenders(tenantId).then((senders) => senderPolicy(tenantId, senders));
      if (entries.size >= MAX_CACHED_TENANTS) entries.clear();
      entries.set(tenantId, { policy, until: performance.now() + SENDER_CACHE_MS });
      policy.catch(() => entries.delete(tenantId));
      return policy;
    },
    forget(tenantId) {
      entries.delete(tenantId);
    },
  };
}
