import type { DispatchOutcome, DispatchQueue } from '@mailroute/core';

/** The store as the dispatcher's queue, telling `onCommitted` about each outcome once it is durable. */
export function observedQueue(queue: DispatchQueue, onCommitted: (outcomes: readonly DispatchOutcome[]) => void): DispatchQueue {
  return {
    claim: (owner, limit, leaseMs) => queue.claim(owner, limit, leaseMs),
    extendLeases: (owner, ids, leaseMs) => queue.extendLeases(owner, ids, leaseMs),
    async complete(owner, outcomes) {
      await queue.complete(owner, outcomes);
      try {
        onCommitted(outcomes);
      } catch {
        // The outcomes are committed; a failing observer must not make the dispatcher commit them again.
      }
    },
    release: (owner, ids) => queue.release(owner, ids),
    recoverExpiredLeases: () => queue.recoverExpiredLeases(),
    nextDueAt: () => queue.nextDueAt(),
    onEnqueued: (listener) => queue.onEnqueued(listener),
  };
}
