import { decideRetry, defaultRetryPolicy, type RetryPolicy } from '../retry.js';
import type { RouteResult, Router } from '../router/router.js';
import type { ClaimedMessage, DispatchOutcome, DispatchQueue } from './queue.js';

export interface DispatcherOptions {
  readonly queue: DispatchQueue;
  /** Read on every send, so a configuration reload takes effect for the next message. */
  readonly router: () => Router;
  /** This worker's lease owner id; unique per process. */
  readonly owner: string;
  /** Most messages in flight at once (sent but outcome not yet committed). */
  readonly concurrency?: number;
  readonly leaseMs?: number;
  readonly retryPolicy?: RetryPolicy;
  /** How long a held (ambiguous) message waits for the provider's events before going elsewhere. */
  readonly confirmWindowMs?: number;
  /** Longest sleep when idle; new mail wakes the worker at once through `onEnqueued`. */
  readonly idlePollMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Storage errors are retried; this hears about them (for logs). */
  readonly onError?: (error: unknown, during: 'claim' | 'complete' | 'lease' | 'recover') => void;
}

export interface DispatcherStats {
  readonly inFlight: number;
  readonly dispatched: number;
  readonly claimed: number;
}

export interface Dispatcher {
  start(): void;
  /** Stops claiming, waits up to `graceMs` for sends in flight and commits their outcomes. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Wakes an idle worker (new mail, a configuration change). */
  wake(): void;
  stats(): DispatcherStats;
}

const STORAGE_RETRY_MS = 250;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { queue, owner } = options;
  const concurrency = options.concurrency ?? 100;
  const leaseMs = options.leaseMs ?? 60_000;
  const retryPolicy = options.retryPolicy ?? defaultRetryPolicy;
  const confirmWindowMs = options.confirmWindowMs ?? 5 * 60_000;
  const idlePollMs = options.idlePollMs ?? 1_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const report = options.onError ?? (() => {});

  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  let blockedOnCapacity = false;
  const inFlight = new Set<string>();
  let dispatched = 0;
  let claimedTotal = 0;
  let unsubscribe: (() => void) | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let recoverTimer: NodeJS.Timeout | undefined;

  const outcomes: { outcome: DispatchOutcome; committed: () => void }[] = [];
  let flushing: Promise<void> | undefined;

  function wake(): void {
    pendingWake = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (pendingWake) {
      pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        pendingWake = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function run(): Promise<void> {
    while (running) {
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        blockedOnCapacity = true;
        await sleep(idlePollMs);
        blockedOnCapacity = false;
        continue;
      }
      let claimed: ClaimedMessage[];
      try {
        claimed = await queue.claim(owner, free, leaseMs);
      } catch (error) {
        report(error, 'claim');
        await sleep(STORAGE_RETRY_MS);
        continue;
      }
      if (claimed.length === 0) {
        await sleep(await idleDelay());
        continue;
      }
      claimedTotal += claimed.length;
      for (const item of claimed) {
        inFlight.add(item.message.id);
        void dispatch(item);
      }
    }
  }

  async function idleDelay(): Promise<number> {
    try {
      const due = await queue.nextDueAt();
      return due === undefined ? idlePollMs : Math.max(0, Math.min(idlePollMs, due - now()));
    } catch (error) {
      report(error, 'claim');
      return STORAGE_RETRY_MS;
    }
  }

  async function dispatch(item: ClaimedMessage): Promise<void> {
    const result = await options.router().send(item.message, item.exclude ? { exclude: item.exclude } : undefined);
    const outcome = toOutcome(item, result);
    await new Promise<void>((committed) => {
      outcomes.push({ outcome, committed });
      flush();
    });
    inFlight.delete(item.message.id);
    dispatched += 1;
    // A retry or hold makes a new due time the idle loop has not seen yet.
    if (blockedOnCapacity || outcome.kind === 'retry' || outcome.kind === 'held') wake();
  }

  function toOutcome(item: ClaimedMessage, result: RouteResult): DispatchOutcome {
    const { id } = item.message;
    const { attempts } = result;
    switch (result.status) {
      case 'sent':
        return { kind: 'sent', id, provider: result.provider, providerMessageId: result.providerMessageId, attempts };
      case 'failed':
        return { kind: 'failed', id, error: result.error, attempts };
      case 'held':
        return { kind: 'held', id, provider: result.provider, until: now() + confirmWindowMs, error: result.error, attempts };
      case 'retry': {
        const decision = decideRetry(
          { attempts: item.rounds + 1, acceptedAt: item.acceptedAt, now: now(), notBefore: result.retryAt },
          retryPolicy,
          random,
        );
        return decision.action === 'retry'
          ? { kind: 'retry', id, at: decision.at, error: result.error, attempts }
          : { kind: 'dead', id, reason: decision.reason, error: result.error, attempts };
      }
    }
  }

  /**
   * Commits outcomes in batches: those that finished in the same event-loop turn, and
   * whatever piled up while the previous commit ran.
   */
  function flush(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (outcomes.length > 0) {
        const batch = outcomes.splice(0, outcomes.length);
        try {
          await queue.complete(
            owner,
            batch.map((entry) => entry.outcome),
          );
          for (const entry of batch) entry.committed();
        } catch (error) {
          report(error, 'complete');
          outcomes.unshift(...batch);
          await new Promise((resolve) => setTimeout(resolve, STORAGE_RETRY_MS));
        }
      }
    })().finally(() => {
      flushing = undefined;
      if (outcomes.length > 0) flush();
    });
  }

  async function extendLeases(): Promise<void> {
    if (inFlight.size === 0) return;
    try {
      await queue.extendLeases(owner, [...inFlight], leaseMs);
    } catch (error) {
      report(error, 'lease');
    }
  }

  async function recover(): Promise<void> {
    try {
      if ((await queue.recoverExpiredLeases()) > 0) wake();
    } catch (error) {
      report(error, 'recover');
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribe = queue.onEnqueued(wake);
      leaseTimer = setInterval(() => void extendLeases(), Math.max(50, Math.floor(leaseMs / 3)));
      recoverTimer = setInterval(() => void recover(), Math.max(50, Math.floor(leaseMs / 2)));
      void recover();
      loop = run();
    },
    async stop({ graceMs = 30_000 } = {}) {
      if (!running) return;
      running = false;
      unsubscribe?.();
      wake();
      await loop;
      const deadline = now() + graceMs;
      while (inFlight.size > 0 && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      clearInterval(leaseTimer);
      clearInterval(recoverTimer);
      await flushing;
    },
    wake,
    stats: () => ({ inFlight: inFlight.size, dispatched, claimed: claimedTotal }),
  };
}
