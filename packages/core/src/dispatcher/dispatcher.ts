import { writeSplitting } from '../batching.js';
import { mailError } from '../errors.js';
import { decideRetry, defaultRetryPolicy, type RetryPolicy } from '../retry.js';
import type { RouteResult, Router } from '../router/router.js';
import { minimalOutcome } from './minimal-outcome.js';
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
  /** Storage errors are retried (see `stop` and the outcome commit for how long); this hears about them (for logs). */
  readonly onError?: (error: unknown, during: 'claim' | 'complete' | 'lease' | 'recover' | 'dispatch') => void;
}

export interface DispatcherStats {
  readonly inFlight: number;
  readonly dispatched: number;
  readonly claimed: number;
}

export interface Dispatcher {
  start(): void;
  /**
   * Stops claiming, waits up to `graceMs` for sends in flight and commits their outcomes. A
   * send still unanswered at the deadline is recorded as ambiguous (TIMEOUT: the provider may
   * have it) and goes back to the queue for a retry; its late answer is ignored.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Wakes an idle worker (new mail, a configuration change). */
  wake(): void;
  stats(): DispatcherStats;
}

const STORAGE_RETRY_MS = 250;
const MAX_STORAGE_RETRY_MS = 5_000;
/**
 * Tries of an outcome as it came before it is cut to its minimal form (about 1.75 s of
 * failures with the backoff): a brief database hiccup keeps the providers' full answers.
 */
const FULL_FORM_TRIES = 4;

/** An outcome on its way to the store; `settle` tells its send whether it was stored. */
interface PendingOutcome {
  outcome: DispatchOutcome;
  readonly settle: (stored: boolean) => void;
  tries: number;
  firstFailedAt: number | undefined;
  minimal: boolean;
}

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
  /** Claimed messages whose outcome is not yet stored (or given up): what capacity and leases count. */
  const inFlight = new Set<string>();
  /** Claimed messages the router has not answered for yet. */
  const sending = new Map<string, ClaimedMessage>();
  /** Past stop's deadline: outcomes are written once more, then given up; late router answers are ignored. */
  let cutOff = false;
  let dispatched = 0;
  let claimedTotal = 0;
  let unsubscribe: (() => void) | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let recoverTimer: NodeJS.Timeout | undefined;

  const outcomes: PendingOutcome[] = [];
  const backingOff = new Map<PendingOutcome, NodeJS.Timeout>();
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
        dispatch(item).catch((error: unknown) => report(error, 'dispatch'));
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

  /** Sends one claimed message and stores its outcome; the slot is freed whatever happens. */
  async function dispatch(item: ClaimedMessage): Promise<void> {
    const { id } = item.message;
    try {
      sending.set(id, item);
      let result: RouteResult;
      try {
        result = await options.router().send(item.message, item.exclude ? { exclude: item.exclude } : undefined);
      } finally {
        sending.delete(id);
      }
      // Stop's deadline passed first: the message was recorded as ambiguous then.
      if (cutOff) return;
      const outcome = toOutcome(item, result);
      if (await commit(outcome)) dispatched += 1;
      // A retry or hold makes a new due time the idle loop has not seen yet.
      if (blockedOnCapacity || outcome.kind === 'retry' || outcome.kind === 'held') wake();
    } finally {
      inFlight.delete(id);
    }
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

  /** Resolves true once the outcome is stored, false when it was given up (see `retryLater`). */
  function commit(outcome: DispatchOutcome): Promise<boolean> {
    return new Promise((settle) => {
      outcomes.push({ outcome, settle, tries: 0, firstFailedAt: undefined, minimal: false });
      flush();
    });
  }

  /**
   * Commits outcomes in batches: those that finished in the same event-loop turn, and
   * whatever piled up while the previous commit ran. A batch the store refuses is split
   * (writeSplitting), so one outcome it cannot take holds up only itself.
   */
  function flush(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (outcomes.length > 0) {
        const batch = outcomes.splice(0, outcomes.length);
        const failures = await writeSplitting(batch, async (entries) => {
          await queue.complete(
            owner,
            entries.map((entry) => entry.outcome),
          );
          for (const entry of entries) entry.settle(true);
        });
        for (const { item, error } of failures) {
          report(error, 'complete');
          retryLater(item, error);
        }
      }
    })().finally(() => {
      flushing = undefined;
      if (outcomes.length > 0) flush();
    });
  }

  /**
   * An outcome the store refused on its own is tried again with backoff; after a few tries
   * it is cut to its minimal form (status and error codes, no provider text). One that still
   * cannot be stored once it has failed for a lease time (the database is down), or at stop's
   * deadline, is given up: its slot is freed and its lease no longer extended, so lease
   * recovery sends the message again, as after a crash. Nothing is retried forever.
   */
  function retryLater(entry: PendingOutcome, error: unknown): void {
    entry.tries += 1;
    entry.firstFailedAt ??= now();
    if (cutOff || now() - entry.firstFailedAt >= leaseMs) {
      report(
        new Error(
          `gave up storing the ${entry.outcome.kind} outcome of message ${entry.outcome.id} after ${entry.tries} tries; it is sent again once its lease runs out`,
          { cause: error },
        ),
        'complete',
      );
      entry.settle(false);
      return;
    }
    let delay = Math.min(MAX_STORAGE_RETRY_MS, STORAGE_RETRY_MS * 2 ** (entry.tries - 1));
    if (!entry.minimal && entry.tries >= FULL_FORM_TRIES) {
      entry.outcome = minimalOutcome(entry.outcome, error instanceof Error ? error.message : String(error));
      entry.minimal = true;
      delay = STORAGE_RETRY_MS;
    }
    const timer = setTimeout(() => {
      backingOff.delete(entry);
      outcomes.push(entry);
      flush();
    }, delay);
    backingOff.set(entry, timer);
  }

  /**
   * Stop's deadline: sends still unanswered are recorded as ambiguous (a provider may have
   * them), and every outcome waiting for a retry gets one last try now.
   */
  async function cutOffAt(graceMs: number): Promise<void> {
    cutOff = true;
    const error = mailError(
      'TIMEOUT',
      `the worker stopped with this send in flight (shutdown grace of ${graceMs} ms ran out); the provider may have accepted it`,
    );
    const cut = [...sending.values()].map((item) =>
      commit(toOutcome(item, { status: 'retry', error, attempts: [], skipped: [] })).then(() => inFlight.delete(item.message.id)),
    );
    for (const [entry, timer] of backingOff) {
      clearTimeout(timer);
      outcomes.push(entry);
    }
    backingOff.clear();
    flush();
    await Promise.all(cut);
    while (flushing) await flushing;
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
      if (inFlight.size > 0) await cutOffAt(graceMs);
      while (flushing) await flushing;
    },
    wake,
    stats: () => ({ inFlight: inFlight.size, dispatched, claimed: claimedTotal }),
  };
}
