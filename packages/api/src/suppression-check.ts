import { type MessageContent, recipientsOf } from '@mailroute/core';
import type { MailStore } from '@mailroute/store';

/** The store checks at most this many addresses per query. */
const CHUNK = 10_000;

interface Waiter {
  readonly tenantId: string;
  readonly addresses: readonly string[];
  readonly resolve: (found: Set<string>) => void;
  readonly reject: (error: unknown) => void;
}

export interface SuppressionChecker {
  /** Which recipients of these messages are on the tenant's suppression list (lower-cased). */
  suppressedRecipients(messages: readonly MessageContent[], tenantId: string): Promise<Set<string>>;
}

/**
 * Checks made in the same event-loop turn share one query per tenant, as enqueues share one
 * commit: under load a send costs a fraction of a query instead of a whole one.
 */
export function createSuppressionChecker(store: MailStore): SuppressionChecker {
  let waiting: Waiter[] = [];

  async function flush(): Promise<void> {
    const batch = waiting;
    waiting = [];
    const byTenant = new Map<string, Waiter[]>();
    for (const waiter of batch) byTenant.set(waiter.tenantId, [...(byTenant.get(waiter.tenantId) ?? []), waiter]);
    await Promise.all(
      [...byTenant].map(async ([tenantId, waiters]) => {
        try {
          const addresses = [...new Set(waiters.flatMap((waiter) => waiter.addresses))];
          const found = new Set<string>();
          for (let start = 0; start < addresses.length; start += CHUNK) {
            for (const address of await store.suppressedAmong(addresses.slice(start, start + CHUNK), { tenantId })) found.add(address);
          }
          for (const waiter of waiters) waiter.resolve(new Set(waiter.addresses.filter((address) => found.has(address))));
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error);
        }
      }),
    );
  }

  return {
    suppressedRecipients(messages, tenantId) {
      const addresses = [...new Set(messages.flatMap((message) => recipientsOf(message).map((address) => address.email.toLowerCase())))];
      if (addresses.length === 0) return Promise.resolve(new Set());
      return new Promise((resolve, reject) => {
        if (waiting.length === 0) setImmediate(() => void flush());
        waiting.push({ tenantId, addresses, resolve, reject });
      });
    },
  };
}
