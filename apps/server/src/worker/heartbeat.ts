import { hostname } from 'node:os';
import type { Router } from '@mailroute/core';
import type { MailStore, ProcessBreaker } from '@mailroute/store';

export interface HeartbeatOptions {
  readonly store: MailStore;
  /** The process's id in the heartbeat table (the worker's lease owner, as in attempt rows). */
  readonly id: string;
  readonly role: string;
  readonly intervalMs: number;
  /** Rows of processes not heard from for this long are deleted (by whichever process beats). */
  readonly pruneAfterMs: number;
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

export interface Heartbeat {
  /** Reports this router's breakers from now on (the first one and each one a reload builds). */
  track(router: Router): void;
  /** Writes a heartbeat now; concurrent calls share one write plus at most one after it. */
  beat(): Promise<void>;
  /** Stops beating and removes this process's row, so it leaves the health view at once. */
  stop(): Promise<void>;
}

/**
 * Writes this process's breaker states to the store every interval and at once when a
 * breaker changes state, so `providers.health` shows an open breaker within a second.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { store, id, role, onError } = options;
  const now = options.now ?? Date.now;
  const startedAt = now();
  const host = hostname();
  let router: Router | undefined;
  let unsubscribe: (() => void) | undefined;
  let writing: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  function breakers(): Record<string, ProcessBreaker> {
    const entries: Record<string, ProcessBreaker> = {};
    for (const health of router?.health() ?? []) {
      // A breaker closed since it was built reports the process's start.
      const at = health.since ?? startedAt;
      entries[health.name] = {
        type: health.type,
        state: health.state,
        since: at,
        ...(health.halfOpenAt === undefined ? {} : { halfOpenAt: health.halfOpenAt }),
        ...(health.state === 'closed' ? {} : { notClosedSince: health.notClosedSince ?? at }),
        enabled: health.enabled,
        fires: health.fires,
        successes: health.successes,
        failures: health.failures,
        rejects: health.rejects,
        latencyMeanMs: health.latencyMeanMs,
      };
    }
    return entries;
  }

  async function write(): Promise<void> {
    do {
      again = false;
      try {
        await store.recordHeartbeat({ id, role, host, pid: process.pid, startedAt, breakers: breakers() });
      } catch (error) {
        onError(error);
      }
    } while (again && !stopped);
  }

  function beat(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (writing) {
      // A change seen during a write must reach the table too.
      again = true;
      return writing;
    }
    writing = write().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  async function prune(): Promise<void> {
    try {
      await store.pruneHeartbeats(now() - options.pruneAfterMs);
    } catch (error) {
      onError(error);
    }
  }

  const timer = setInterval(() => {
    void beat().then(prune);
  }, options.intervalMs);
  timer.unref();

  return {
    track(next) {
      unsubscribe?.();
      router = next;
      // Each breaker knows since when it is in its state (a kept one across reloads too).
      unsubscribe = next.on('breaker', () => {
        if (router === next) void beat();
      });
      void beat();
    },
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe?.();
      await writing;
      try {
        await store.removeHeartbeat(id);
      } catch (error) {
        onError(error);
      }
    },
  };
}
