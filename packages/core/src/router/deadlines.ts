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
  /** Windows whose timer has not fired yet, with their controllers: what `abortAll` reaches. */
  readonly #live = new Map<DeadlineWindow<T>, AbortController>();

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
    this.#live.set(window, controller);
    setTimeout(() => {
      this.#live.delete(window);
      if (this.#current === window) this.#current = undefined;
      if (window.pending.size === 0) return;
      controller.abort(new Error(`timed out after ${this.#timeoutMs} ms`));
      this.#onExpire(window);
    }, this.#timeoutMs + this.#windowMs);
    return window;
  }

  /**
   * Aborts every call in flight now (an operator cut the provider off) and returns their
   * windows; calls starting afterwards join a fresh window. Each window still expires on its
   * timer, so a call that ignores the abort is answered there at the latest.
   */
  abortAll(reason: Error): DeadlineWindow<T>[] {
    this.#current = undefined;
    const windows = [...this.#live].filter(([window]) => window.pending.size > 0);
    for (const [, controller] of windows) controller.abort(reason);
    return windows.map(([window]) => window);
  }
}
