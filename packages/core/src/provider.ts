import type { MailError, ProviderDetail } from './errors.js';
import type { Message } from './model/message.js';

export interface SendContext {
  /** Aborted when the router's timeout fires or the caller gives up; providers must stop then. */
  readonly signal: AbortSignal;
}

export interface Accepted {
  readonly ok: true;
  /** The provider's id for the message, used to correlate its webhook events. */
  readonly providerMessageId: string;
  readonly detail?: ProviderDetail;
}

export interface Rejected {
  readonly ok: false;
  readonly error: MailError;
}

export type SendOutcome = Accepted | Rejected;

export type VerifyOutcome = { readonly ok: true; readonly detail?: ProviderDetail } | Rejected;

/**
 * What every provider implements. `send` never throws: every failure comes back as a
 * classified `MailError` with the provider's own answer (secrets redacted) in `detail`.
 * `verify` checks credentials and reachability cheaply and never sends mail.
 */
export interface Provider {
  /** Instance name from configuration (e.g. `sendgrid-eu`); unique within a router. */
  readonly name: string;
  /** Provider kind: `sendgrid`, `ses`, `smtp`, `capture`, ... */
  readonly type: string;
  send(message: Message, context: SendContext): Promise<SendOutcome>;
  verify(context?: Partial<SendContext>): Promise<VerifyOutcome>;
  /** Releases pooled connections and timers. */
  close(): Promise<void>;
}

export function accepted(providerMessageId: string, detail?: ProviderDetail): Accepted {
  return detail === undefined ? { ok: true, providerMessageId } : { ok: true, providerMessageId, detail };
}

export function rejected(error: MailError): Rejected {
  return { ok: false, error };
}
