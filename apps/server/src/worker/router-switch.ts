import type { Router } from '@mailroute/core';

/**
 * Holds the router the dispatcher reads on every send and swaps it on a configuration
 * reload. A retired router is closed only once the sends it started have finished (they
 * keep their providers and breakers), or after `retireAfterMs` as a backstop; closing it
 * earlier would abort sends that may already have reached the provider.
 */
export interface RouterSwitch {
  current(): Router;
  swap(next: Router, retireAfterMs: number): void;
  /** Closes the current router and waits for every retired one. */
  close(): Promise<void>;
}

interface Tracked {
  readonly router: Router;
  inFlight(): number;
  idle(): Promise<void>;
}

function track(inner: Router): Tracked {
  let inFlight = 0;
  const waiters: (() => void)[] = [];
  const router: Router = {
    async send(message, options) {
      inFlight += 1;
      try {
        return await inner.send(message, options);
      } finally {
        inFlight -= 1;
        if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
      }
    },
    on: (name, listener) => inner.on(name, listener),
    health: () => inner.health(),
    providerNames: () => inner.providerNames(),
    setBreaker: (name, state) => inner.setBreaker(name, state),
    cutInFlight: (name) => inner.cutInFlight(name),
    handOver: (name) => inner.handOver(name),
    close: () => inner.close(),
  };
  return {
    router,
    inFlight: () => inFlight,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

export function createRouterSwitch(initial: Router, onCloseError: (error: unknown) => void = () => {}): RouterSwitch {
  let active = track(initial);
  const retiring = new Set<Promise<void>>();

  function retire(old: Tracked, afterMs: number): void {
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, afterMs);
      timer.unref();
    });
    const done: Promise<void> = Promise.race([old.idle(), backstop])
      .then(() => old.router.close())
      .catch(onCloseError)
      .finally(() => {
        clearTimeout(timer);
        retiring.delete(done);
      });
    retiring.add(done);
  }

  return {
    current: () => active.router,
    swap(next, retireAfterMs) {
      const old = active;
      active = track(next);
      retire(old, retireAfterMs);
    },
    async close() {
      await active.router.close();
      await Promise.all([...retiring]);
    },
  };
}
