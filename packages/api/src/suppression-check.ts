import { type MessageContent, recipientsOf } from '@mailroute/core';
import type { MailStore } from '@mailroute/store';

/** The store checks at most this many addresses per query. */
const CHUNK = 10_000;

/** Which recipients of these messages are on the tenant's suppression list (lower-cased). */
export async function suppressedRecipients(store: MailStore, messages: readonly MessageContent[], tenantId: string): Promise<Set<string>> {
  const addresses = [...new Set(messages.flatMap((message) => recipientsOf(message).map((address) => address.email.toLowerCase())))];
  const found = new Set<string>();
  for (let start = 0; start < addresses.length; start += CHUNK) {
    for (const address of await store.suppressedAmong(addresses.slice(start, start + CHUNK), { tenantId })) found.add(address);
  }
  return found;
}
