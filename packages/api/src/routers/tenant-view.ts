import type { MailStore, ProviderFailure } from '@mailroute/store';

/**
 * A provider's last fault as one caller may see it. The provider's words (`errorMessage`, `error`)
 * quote the message's recipients and ids, which belong to the tenant that sent it; so does
 * `messageId`. A tenant's key sees them for its own messages only; for another tenant's it sees
 * when, the stable code and category, and the status: enough to judge the provider, nothing of
 * the other tenant. Operators see everything.
 */
export interface ProviderFailureView extends Omit<ProviderFailure, 'messageId'> {
  /** Absent when withheld. */
  readonly messageId?: string;
  /** The failed message is another tenant's: its id and the provider's words (`errorMessage`, `error`) are for operators. */
  readonly withheld?: true;
}

export type FailureView = (failure: ProviderFailure | undefined) => ProviderFailureView | undefined;

export const fullFailure: FailureView = (failure) => failure;

function withheld(failure: ProviderFailure): ProviderFailureView {
  return {
    at: failure.at,
    ...(failure.errorCode === undefined ? {} : { errorCode: failure.errorCode }),
    ...(failure.errorCategory === undefined ? {} : { errorCategory: failure.errorCategory }),
    ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }),
    withheld: true,
  };
}

/** The view for a tenant's key: one query tells which of the failures are the tenant's own. */
export async function tenantFailureView(
  store: Pick<MailStore, 'ownedMessageIds'>,
  tenantId: string,
  sources: readonly { readonly lastError?: ProviderFailure }[],
): Promise<FailureView> {
  const ids = sources.flatMap((source) => (source.lastError ? [source.lastError.messageId] : []));
  const own = await store.ownedMessageIds(ids, tenantId);
  return (failure) => (failure === undefined ? undefined : own.has(failure.messageId) ? failure : withheld(failure));
}
