import type { Check } from './checks.js';
import { formatDuration } from './notices.js';

/** Operator states under which an open breaker is expected, not an incident. */
const OPERATOR_HELD = new Set(['disabled', 'forced_open']);

/**
 * Breakers that have not closed for longer than the threshold, from every live process's
 * heartbeat. A failing provider's breaker goes open, half-open (one probe), open again: each
 * step restarts its `since`, so the watch remembers since when each process's breaker has not
 * been closed. A monitor that just took over remembers nothing yet: it keeps an incident
 * already firing open until the breaker closes, and opens new ones once it has seen the
 * threshold go by.
 */
export function breakerWatch(): Check {
  const notClosedSince = new Map<string, number>();

  return {
    kind: 'breaker_open',
    async run({ store, now, settings, staleAfterMs }) {
      const [beats, states] = await Promise.all([store.listHeartbeats({ since: now - staleAfterMs }), store.listProviderStates()]);
      const held = new Set(states.filter((state) => OPERATOR_HELD.has(state.state)).map((state) => state.provider));
      const seen = new Set<string>();
      const byProvider = new Map<string, { open: { process: string; state: string; since: number }[]; live: number }>();
      for (const beat of beats) {
        for (const [provider, breaker] of Object.entries(beat.breakers)) {
          const entry = byProvider.get(provider) ?? { open: [], live: 0 };
          entry.live += 1;
          byProvider.set(provider, entry);
          if (breaker.state === 'closed' || !breaker.enabled || held.has(provider)) continue;
          const key = `${beat.id}\u0000${provider}`;
          seen.add(key);
          const since = Math.min(notClosedSince.get(key) ?? breaker.since, breaker.since);
          notClosedSince.set(key, since);
          entry.open.push({ process: `${beat.host}:${beat.pid}`, state: breaker.state, since });
        }
      }
      for (const key of notClosedSince.keys()) if (!seen.has(key)) notClosedSince.delete(key);

      return [...byProvider]
        .filter(([, entry]) => entry.open.length > 0)
        .map(([provider, entry]) => {
          const since = Math.min(...entry.open.map((open) => open.since));
          return {
            kind: 'breaker_open' as const,
            subject: provider,
            summary: `The circuit breaker for ${provider} has not closed for ${formatDuration(now - since)} in ${entry.open.length} of ${entry.live} live process${entry.live === 1 ? '' : 'es'} (threshold ${formatDuration(settings.breakerOpenAfterMs)}): mail goes to the next provider meanwhile.`,
            detail: {
              openForMs: now - since,
              thresholdMs: settings.breakerOpenAfterMs,
              liveProcesses: entry.live,
              processes: entry.open.map((open) => ({ ...open, since: new Date(open.since).toISOString() })),
            },
            sustainOnly: now - since < settings.breakerOpenAfterMs,
          };
        });
    },
  };
}
