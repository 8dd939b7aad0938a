/** A count within the current window, and how long until the window ends. */
export interface WindowCount {
  readonly count: number;
  readonly resetInMs: number;
}

interface Window {
  count: number;
  startedAt: number;
}

/**
 * Counters over fixed windows, one per name, at most `capacity` names: past it the least
 * recently used is dropped (a fresh window for it next time). Whoever can create names decides
 * what gets dropped, so each kind of caller gets a table of its own.
 */
export class FixedWindows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
  ) {}

  /** Adds `amount` to the name's window and answers the new count. */
  add(name: string, amount: number, now = Date.now()): WindowCount {
    const window = this.live(name, now) ?? { count: 0, startedAt: now };
    window.count += amount;
    // Re-inserted: a Map iterates in insertion order, so the first entry is the least recently used.
    this.windows.delete(name);
    this.windows.set(name, window);
    if (this.windows.size > this.capacity) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    return { count: window.count, resetInMs: window.startedAt + this.windowMs - now };
  }

  /** The name's count without adding to it. */
  peek(name: string, now = Date.now()): WindowCount {
    const window = this.live(name, now);
    return window ? { count: window.count, resetInMs: window.startedAt + this.windowMs - now } : { count: 0, resetInMs: this.windowMs };
  }

  get size(): number {
    return this.windows.size;
  }

  private live(name: string, now: number): Window | undefined {
    const window = this.windows.get(name);
    return window && window.startedAt + this.windowMs > now ? window : undefined;
  }
}
