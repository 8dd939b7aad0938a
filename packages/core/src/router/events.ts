import type { MailError, ProviderDetail } from '../errors.js';
import type { BreakerState } from './breaker.js';

/** One call to one provider: becomes one attempt row in the store. */
export interface AttemptRecord {
  readonly messageId: string;
  readonly provider: string;
  readonly providerType: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly latencyMs: number;
  readonly outcome: 'accepted' | 'failed';
  readonly providerMessageId?: string;
  readonly detail?: ProviderDetail;
  readonly error?: MailError;
  /** What was sent, without content or secrets: enough to tell calls apart in an incident. */
  readonly requestSummary?: RequestSummary;
}

export interface RequestSummary {
  readonly recipients: number;
  readonly attachments: number;
  readonly tags: readonly string[];
  /** Providers that were excluded for this message (a held send elsewhere). */
  readonly excluded?: readonly string[];
}

/** A provider passed over without a call (breaker open, disabled by an operator, excluded). */
export interface SkipRecord {
  readonly provider: string;
  readonly error: MailError;
}

export interface RouterEvents {
  attempt: AttemptRecord;
  skip: SkipRecord & { readonly messageId: string };
  /** A provider failed by its own fault and the message went on to `to`, which was called. */
  failover: { readonly messageId: string; readonly from: string; readonly to: string; readonly error: MailError };
  /** A provider accepted the message; `firstChoice` is the provider the route put first (skipped or not). */
  sent: { readonly messageId: string; readonly firstChoice: string; readonly provider: string };
  /**
   * No provider accepted the message this round (it will be retried): `lastFailed` is the
   * provider whose failure ended it, absent when no provider was called at all.
   */
  unsent: { readonly messageId: string; readonly lastFailed?: string; readonly error: MailError };
  breaker: { readonly provider: string; readonly state: BreakerState; readonly at: number };
}

export type RouterEventName = keyof RouterEvents;
export type RouterListener<K extends RouterEventName> = (event: RouterEvents[K]) => void;

/** A tiny typed emitter: listeners run synchronously and a throwing listener is isolated. */
export class RouterEventBus {
  readonly #listeners: { [K in RouterEventName]: Set<RouterListener<K>> } = {
    attempt: new Set(),
    skip: new Set(),
    failover: new Set(),
    sent: new Set(),
    unsent: new Set(),
    breaker: new Set(),
  };

  on<K extends RouterEventName>(name: K, listener: RouterListener<K>): () => void {
    this.#listeners[name].add(listener);
    return () => this.#listeners[name].delete(listener);
  }

  emit<K extends RouterEventName>(name: K, event: RouterEvents[K]): void {
    for (const listener of this.#listeners[name]) {
      try {
        listener(event);
      } catch {
        // An observer must never break delivery.
      }
    }
  }

  hasListeners(name: RouterEventName): boolean {
    return this.#listeners[name].size > 0;
  }
}
