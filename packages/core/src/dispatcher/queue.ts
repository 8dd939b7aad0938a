import type { MailError } from '../errors.js';
import type { Message } from '../model/message.js';
import type { AttemptRecord } from '../router/events.js';

/** A message a worker holds under a lease. */
export interface ClaimedMessage {
  readonly message: Message;
  /** Dispatch rounds already finished for this message (0 for a new one). */
  readonly rounds: number;
  /** When mailroute accepted the message, or an operator last requeued it (epoch ms): the start of its max age. */
  readonly acceptedAt: number;
  readonly leaseExpiresAt: number;
  /**
   * Providers not to use this round: the one that may already have the message after an
   * ambiguous send whose confirmation window ran out.
   */
  readonly exclude?: readonly string[];
}

/** The result of one dispatch round, written with its attempts in one transaction. */
export type DispatchOutcome =
  | {
      readonly kind: 'sent';
      readonly id: string;
      readonly provider: string;
      readonly providerMessageId: string;
      readonly attempts: readonly AttemptRecord[];
    }
  | { readonly kind: 'failed'; readonly id: string; readonly error: MailError; readonly attempts: readonly AttemptRecord[] }
  | {
      readonly kind: 'retry';
      readonly id: string;
      readonly at: number;
      readonly error: MailError;
      readonly attempts: readonly AttemptRecord[];
      /** False for a round that tried no provider: it does not add to the message's rounds. */
      readonly counted?: false;
    }
  | {
      readonly kind: 'dead';
      readonly id: string;
      readonly reason: 'max_attempts' | 'max_age';
      readonly error: MailError;
      readonly attempts: readonly AttemptRecord[];
    }
  | {
      /** Ambiguous send under the confirm policy: wait for the provider's events until `until`. */
      readonly kind: 'held';
      readonly id: string;
      readonly provider: string;
      readonly until: number;
      readonly error: MailError;
      readonly attempts: readonly AttemptRecord[];
    };

/**
 * What the dispatcher needs from durable storage. The store implements it on SQLite and
 * PostgreSQL; every write is guarded by the lease owner so a worker that lost its lease
 * cannot overwrite the newer owner's state (its attempts are still recorded).
 */
export interface DispatchQueue {
  /** Leases up to `limit` due messages to `owner` for `leaseMs`. */
  claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedMessage[]>;
  extendLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<void>;
  /** Applies many outcomes in one transaction (attempt rows + status changes). */
  complete(owner: string, outcomes: readonly DispatchOutcome[]): Promise<void>;
  /** Gives claimed messages back unsent (graceful stop). */
  release(owner: string, ids: readonly string[]): Promise<void>;
  /** Makes messages whose lease expired claimable again; returns how many. */
  recoverExpiredLeases(): Promise<number>;
  /** Earliest time a message that is not yet due becomes due (scheduled, retrying), if any. */
  nextDueAt(): Promise<number | undefined>;
  /** Calls `listener` when new mail is enqueued (in this process, or in any process on PostgreSQL). */
  onEnqueued(listener: () => void): () => void;
}
