import { setMaxListeners } from 'node:events';

/**
 * Per-call timeouts without a timer and an AbortController per call (creating an
 * AbortSignal costs more than the whole rest of a routed send on Node 20). Calls that start
 * within the same short window share one controller and one timer; the window's signal
 * aborts once the last of them has had the full timeout, so each call gets between
 * `timeoutMs` and `timeoutMs + windowMs`. Each window also keeps its unfinished calls so
 * they can be answered when the provider ignores the abort.
 */
export interface DeadlineWindow<T> {
  readonly signal: AbortSignal;
  readonly pending: Set<T>;
}

export class Deadlines<T> {
  readonly #timeoutMs: number;
  readonly #windowMs: number;
  readonly #onExpire: (window: DeadlineWindow<T>) => void;
  #current: (DeadlineWindow<T> & { readonly openedAt: number }) | undefined;

  constructor(timeoutMs: number, onExpire: (window: DeadlineWindow<T>) => void) {
    this.#timeoutMs = timeoutMs;
    this.#windowMs = Math.max(1, Math.min(25, Math.floor(timeoutMs / 10)));
    this.#onExpire = onExpire;
  }

  /** The window a call starting now joins. */
  current(now: number): DeadlineWindow<T> {
    const open = this.#current;
    if (open && now - open.openedAt < this.#windowMs) return open;
    const controller = new AbortController();
    // Every call of the window listens on this one signal: more than ten is the design, not a leak.
    setMaxListeners(0, controller.signal);
    const window = { signal: controller.signal, pending: new Set<T>(), openedAt: now };
    this.#current = window;
    setTimeout(() => {
      if (this.#current === window) this.#current = undefined;
      if (window.pending.size === 0) return;
      controller.abort(new Error(`timed out after ${this.#timeoutMs} ms`));
      this.#onExpire(window);
    }, this.#timeoutMs + this.#windowMs);
    return window;
  }
}
