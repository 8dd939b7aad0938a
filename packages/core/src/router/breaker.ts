import CircuitBreaker from 'opossum';
import { type MailError, mailError } from '../errors.js';
import type { Message } from '../model/message.js';
import { type Provider, rejected, type SendOutcome } from '../provider.js';
import { Deadlines, type DeadlineWindow } from './deadlines.js';

export interface BreakerOptions {
  /** A call is cut (aborted) after this long. */
  readonly timeoutMs: number;
  /** Most calls in flight to this provider from this process; more are refused at once. */
  readonly capacity: number;
  /** Calls in the rolling window before the breaker may open at all. */
  readonly volumeThreshold: number;
  /** Failure percentage in the rolling window above which the breaker opens. */
  readonly errorThresholdPercentage: number;
  /** How long an open breaker waits before letting one probe through (half-open). */
  readonly resetTimeoutMs: number;
  readonly rollingCountTimeoutMs: number;
  readonly rollingCountBuckets: number;
}

/**
 * The rolling window is short on purpose: successes from before an outage dilute the
 * failure rate until they age out, so the window bounds how late the breaker opens
 * (about half the window at a 50% threshold). `volumeThreshold` keeps a quiet window
 * from opening on a stray failure.
 */
export const defaultBreakerOptions: BreakerOptions = {
  timeoutMs: 10_000,
  capacity: 100,
  volumeThreshold: 10,
  errorThresholdPercentage: 50,
  resetTimeoutMs: 30_000,
  rollingCountTimeoutMs: 2_000,
  rollingCountBuckets: 10,
};

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Partial breaker settings, as configuration gives them (an absent or undefined field keeps the default). */
export type BreakerOverrides = { readonly [K in keyof BreakerOptions]?: BreakerOptions[K] | undefined };

/** Later layers win; undefined fields never replace a value. */
export function mergeBreakerOptions(...layers: readonly (BreakerOverrides | undefined)[]): BreakerOptions {
  const merged: Record<string, number> = { ...defaultBreakerOptions };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) if (value !== undefined) merged[key] = value;
  }
  return merged as unknown as BreakerOptions;
}

/** After a timeout the provider gets this long to say whether its request reached the wire. */
const ABORT_GRACE_MS = 50;

/** Rejection that carries a provider's classified failure through opossum. */
class ProviderCallFailed extends Error {
  constructor(readonly outcome: SendOutcome & { ok: false }) {
    super(outcome.error.message);
  }
}

export type BreakerCallResult =
  | { readonly kind: 'called'; readonly outcome: SendOutcome }
  | { readonly kind: 'skipped'; readonly error: MailError };

export interface ProviderBreaker {
  readonly provider: Provider;
  readonly options: BreakerOptions;
  state(): BreakerState;
  /** When an open breaker will let a probe through (epoch ms), if it is open. */
  halfOpenAt(): number | undefined;
  call(message: Message, signal: AbortSignal | undefined): Promise<BreakerCallResult>;
  stats(): CircuitBreaker.Stats;
  /**
   * Opens the breaker until `close()`; for operators who know a provider is down before the
   * failures show it. Unlike an open that failures caused, it sends no half-open probe.
   */
  forceOpen(): void;
  /** Aborts every call in flight to the provider now (it was disabled); the breaker state is left alone. */
  cutInFlight(): void;
  /** Whether the breaker is open by `forceOpen()` (and not by failures). */
  forced(): boolean;
  /** Closes the breaker (also a forced one): calls go through and failures count again. */
  close(): void;
  /**
   * `at` is the time the breaker recorded for the change: an open one's halfOpenAt() is at + resetTimeoutMs.
   * Returns what stops the listener (a router that hands the breaker over to the next one).
   */
  onStateChange(listener: (state: BreakerState, at: number) => void): () => void;
  /** When the breaker entered its state; undefined while it has stayed closed since it was built. */
  changedAt(): number | undefined;
  /** While not closed: when it last left closed (it spans open -> half_open -> open cycles of failed probes). */
  notClosedSince(): number | undefined;
  shutdown(): void;
}

/** A provider at capacity that finished no call for this long is taken to hang. */
const STALL_MS = 1_000;

export function createProviderBreaker(provider: Provider, options: BreakerOptions, now: () => number = Date.now): ProviderBreaker {
  const { send, cut } = createTimedSender(provider, options.timeoutMs, now);
  const breaker = new CircuitBreaker(
    async (message: Message, signal: AbortSignal | undefined, refusal?: SendOutcome & { ok: false }) => {
      if (refusal) throw new ProviderCallFailed(refusal);
      const outcome = await send(message, signal);
      if (!outcome.ok) throw new ProviderCallFailed(outcome);
      return outcome;
    },
    {
      name: provider.name,
      timeout: false,
      volumeThreshold: options.volumeThreshold,
      errorThresholdPercentage: options.errorThresholdPercentage,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.rollingCountTimeoutMs,
      rollingCountBuckets: options.rollingCountBuckets,
      // A bad address fails everywhere: it says nothing about the provider's health.
      errorFilter: (error: unknown) => error instanceof ProviderCallFailed && error.outcome.error.category === 'message',
    },
  );
  let openedAt: number | undefined;
  let forced = false;
  // A forced breaker's trip through half-open and back is not a change anyone should hear of.
  let reported: BreakerState = 'closed';
  let changedAt: number | undefined;
  let leftClosedAt: number | undefined;
  const listeners = new Set<(state: BreakerState, at: number) => void>();
  const report = (state: BreakerState) => {
    if (state === reported) return;
    reported = state;
    const at = state === 'open' && openedAt !== undefined ? openedAt : now();
    changedAt = at;
    leftClosedAt = state === 'closed' ? undefined : (leftClosedAt ?? at);
    for (const listener of listeners) listener(state, at);
  };
  // Counted here, not by opossum's semaphore, which counts every refused call as a failure:
  // a burst beyond capacity opened the breaker of a healthy provider. A refusal counts only
  // while no call has finished for STALL_MS: the provider hangs, and its breaker should open
  // before the calls time out.
  let inFlight = 0;
  let progressAt = 0;
  // opossum moves an open breaker to half-open after resetTimeout by itself: a forced one goes straight back.
  breaker.on('halfOpen', () => {
    if (forced) breaker.open();
  });
  breaker.on('open', () => {
    openedAt = now();
    report('open');
  });
  breaker.on('halfOpen', () => {
    if (!forced) report('half_open');
  });
  breaker.on('close', () => {
    openedAt = undefined;
    report('closed');
  });

  return {
    provider,
    options,
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed'),
    halfOpenAt: () => (breaker.opened && !forced && openedAt !== undefined ? openedAt + options.resetTimeoutMs : undefined),
    async call(message, signal) {
      if (forced) {
        return {
          kind: 'skipped',
          error: mailError('BREAKER_OPEN', `circuit breaker for ${provider.name} is forced open by an operator`, {
            provider: provider.name,
          }),
        };
      }
      let refusal: (SendOutcome & { ok: false }) | undefined;
      if (inFlight >= options.capacity) {
        refusal = rejected(
          mailError('PROVIDER_BUSY', `${options.capacity} calls already in flight to ${provider.name}`, { provider: provider.name }),
        );
        if (now() - progressAt < STALL_MS) return { kind: 'called', outcome: refusal };
      } else {
        if (inFlight === 0) progressAt = now();
        inFlight += 1;
      }
      try {
        return { kind: 'called', outcome: await breaker.fire(message, signal, refusal) };
      } catch (error) {
        if (error instanceof ProviderCallFailed) return { kind: 'called', outcome: error.outcome };
        const code = (error as { code?: unknown }).code;
        if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') {
          return {
            kind: 'skipped',
            error: mailError('BREAKER_OPEN', `circuit breaker for ${provider.name} is open`, { provider: provider.name }),
          };
        }
        return { kind: 'called', outcome: rejected(unexpected(provider, error)) };
      } finally {
        if (!refusal) {
          inFlight -= 1;
          progressAt = now();
        }
      }
    },
    stats: () => breaker.stats,
    forceOpen() {
      forced = true;
      breaker.open();
    },
    forced: () => forced,
    cutInFlight: cut,
    close() {
      forced = false;
      breaker.close();
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changedAt: () => changedAt,
    notClosedSince: () => leftClosedAt,
    shutdown: () => breaker.shutdown(),
  };
}

interface PendingCall {
  timedOut: boolean;
  /** Aborted because an operator disabled the provider. */
  cut: boolean;
  done: boolean;
  readonly resolve: (outcome: SendOutcome) => void;
}

/**
 * Cuts calls that outlive the timeout: their window's signal aborts them, and when the
 * provider does not answer within a short grace after the abort, the call is answered
 * with TIMEOUT so a hung provider can never hold a caller. `cut()` does the same to every
 * call in flight at once, for an operator who disabled the provider.
 */
function createTimedSender(provider: Provider, timeoutMs: number, now: () => number) {
  const answerLeftovers = (window: DeadlineWindow<PendingCall>, answer: (call: PendingCall) => SendOutcome) =>
    setTimeout(() => {
      for (const call of window.pending) {
        if (call.done) continue;
        call.done = true;
        call.resolve(answer(call));
      }
      window.pending.clear();
    }, ABORT_GRACE_MS);
  const deadlines = new Deadlines<PendingCall>(timeoutMs, (window) => {
    for (const call of window.pending) call.timedOut = true;
    answerLeftovers(window, () => timedOut(provider, timeoutMs));
  });

  function send(message: Message, callerSignal: AbortSignal | undefined): Promise<SendOutcome> {
    const window = deadlines.current(now());
    const signal = callerSignal ? AbortSignal.any([window.signal, callerSignal]) : window.signal;
    return new Promise((resolve) => {
      const call: PendingCall = { timedOut: false, cut: false, done: false, resolve };
      window.pending.add(call);
      safeSend(provider, message, signal).then((outcome) => {
        if (call.done) return;
        call.done = true;
        window.pending.delete(call);
        if (outcome.ok) resolve(outcome);
        else if (call.cut) resolve(asCut(outcome, provider));
        else resolve(call.timedOut ? asTimeout(outcome, provider, timeoutMs) : outcome);
      });
    });
  }

  function cut(): void {
    for (const window of deadlines.abortAll(new Error(`${provider.name} was disabled by an operator`))) {
      for (const call of window.pending) call.cut = true;
      // No answer after the abort: the request may be out, so the outcome is ambiguous.
      answerLeftovers(window, () =>
        rejected(
          mailError('TIMEOUT', `${provider.name} was disabled by an operator during the call and did not answer the abort`, {
            provider: provider.name,
          }),
        ),
      );
    }
  }

  return { send, cut };
}

/**
 * A call cut because the provider was disabled: one that never reached the provider was
 * simply not made (PROVIDER_DISABLED, the router moves on); one that did keeps the
 * provider's ambiguous verdict, so the ambiguous policy decides whether to resend.
 */
function asCut(outcome: SendOutcome & { ok: false }, provider: Provider): SendOutcome {
  const written = outcome.error.detail?.requestWritten !== false;
  const code = written ? (outcome.error.category === 'ambiguous' ? outcome.error.code : 'TIMEOUT') : 'PROVIDER_DISABLED';
  const when = written ? 'after the request was written; it may have been accepted' : 'before the request was written';
  return rejected(
    mailError(code, `${provider.name} was disabled by an operator and the call was cut ${when}`, {
      provider: provider.name,
      ...(outcome.error.detail ? { detail: outcome.error.detail } : {}),
    }),
  );
}

async function safeSend(provider: Provider, message: Message, signal: AbortSignal): Promise<SendOutcome> {
  try {
    return await provider.send(message, { signal });
  } catch (error) {
    return rejected(unexpected(provider, error));
  }
}

/**
 * A provider that answered the abort knows whether its request was written: if it was
 * not, the call never reached the provider and is an ordinary provider fault.
 */
function asTimeout(outcome: SendOutcome & { ok: false }, provider: Provider, timeoutMs: number): SendOutcome {
  if (outcome.error.detail?.requestWritten === false) {
    return rejected(
      mailError('PROVIDER_UNREACHABLE', `no connection to ${provider.name} within ${timeoutMs} ms`, {
        provider: provider.name,
        detail: outcome.error.detail,
      }),
    );
  }
  return rejected(
    mailError('TIMEOUT', `${provider.name} did not answer within ${timeoutMs} ms`, {
      provider: provider.name,
      ...(outcome.error.detail ? { detail: outcome.error.detail } : {}),
    }),
  );
}

function timedOut(provider: Provider, timeoutMs: number): SendOutcome {
  return rejected(mailError('TIMEOUT', `${provider.name} did not answer within ${timeoutMs} ms`, { provider: provider.name }));
}

function unexpected(provider: Provider, error: unknown): MailError {
  const text = error instanceof Error ? error.message : String(error);
  return mailError('PROVIDER_ERROR', `${provider.name} failed unexpectedly: ${text}`, {
    provider: provider.name,
    detail: { code: error instanceof Error ? error.name : typeof error, body: text },
  });
}
