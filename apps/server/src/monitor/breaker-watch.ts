import type { Check, CheckCondition, Resolution } from './checks.js';
import { formatDuration } from './notices.js';

/** Operator states under which an open breaker is expected, not an incident. */
const OPERATOR_HELD = new Set(['disabled', 'forced_open']);

interface ProviderView {
  /** Processes whose breaker is not closed: open, or half-open (letting one probe through). */
  readonly notClosed: { process: string; state: string; since: number }[];
  /** When the latest breaker seen closed closed. */
  closedAt: number | undefined;
  live: number;
}

/**
 * Breakers that have not closed for longer than the threshold, from every live process's
 * heartbeat. A failing provider's breaker goes open, half-open (one probe), open again: the
 * heartbeat's `notClosedSince` spans those cycles, and the watch also remembers since when
 * each process's breaker has not been closed. A half-open breaker is not closed: with no
 * traffic to probe, it may stay half-open for long. A monitor that just took over keeps an
 * incident already firing open until the breaker closes, and opens new ones once the
 * threshold has gone by.
 */
export function breakerWatch(): Check {
  const notClosedSince = new Map<string, number>();

  return {
    kind: 'breaker_open',
    async run({ store, now, settings, staleAfterMs, providerNames, firing }) {
      const [beats, states] = await Promise.all([store.listHeartbeats({ since: now - staleAfterMs }), store.listProviderStates()]);
      const held = new Map(states.filter((state) => OPERATOR_HELD.has(state.state)).map((state) => [state.provider, state.state]));
      const seen = new Set<string>();
      const byProvider = new Map<string, ProviderView>();
      for (const beat of beats) {
        for (const [provider, breaker] of Object.entries(beat.breakers)) {
          const entry = byProvider.get(provider) ?? { notClosed: [], closedAt: undefined, live: 0 };
          entry.live += 1;
          byProvider.set(provider, entry);
          if (breaker.state === 'closed') entry.closedAt = Math.max(entry.closedAt ?? breaker.since, breaker.since);
          if (breaker.state === 'closed' || !breaker.enabled || held.has(provider)) continue;
          const key = `${beat.id}\u0000${provider}`;
          seen.add(key);
          const since = Math.min(
            notClosedSince.get(key) ?? Number.POSITIVE_INFINITY,
            breaker.notClosedSince ?? breaker.since,
            breaker.since,
          );
          notClosedSince.set(key, since);
          entry.notClosed.push({ process: `${beat.host}:${beat.pid}`, state: breaker.state, since });
        }
      }
      for (const key of notClosedSince.keys()) if (!seen.has(key)) notClosedSince.delete(key);

      const conditions = [...byProvider]
        .filter(([, entry]) => entry.notClosed.length > 0)
        .map(([provider, entry]): CheckCondition => {
          const since = Math.min(...entry.notClosed.map((open) => open.since));
          const open = entry.notClosed.filter((breaker) => breaker.state === 'open').length;
          const halfOpen = entry.notClosed.length - open;
          return {
            kind: 'breaker_open',
            subject: provider,
            summary: `The circuit breaker for ${provider} has not closed for ${formatDuration(now - since)} in ${entry.notClosed.length} of ${entry.live} live process${entry.live === 1 ? '' : 'es'} (open in ${open}, half-open in ${halfOpen}; threshold ${formatDuration(settings.breakerOpenAfterMs)}): mail goes to the next provider meanwhile.`,
            detail: {
              openForMs: now - since,
              thresholdMs: settings.breakerOpenAfterMs,
              liveProcesses: entry.live,
              open,
              halfOpen,
              processes: entry.notClosed.map((breaker) => ({ ...breaker, since: new Date(breaker.since).toISOString() })),
            },
            startedAt: since,
            sustainOnly: now - since < settings.breakerOpenAfterMs,
          };
        });

      const resolved = firing
        .filter((alert) => !conditions.some((condition) => condition.subject === alert.subject))
        .flatMap((alert): Resolution[] => {
          const provider = alert.subject;
          const state = held.get(provider);
          if (state !== undefined) {
            return [
              { subject: provider, reason: `An operator set ${provider} ${state}: its breaker is held on purpose, not by failures.` },
            ];
          }
          const entry = byProvider.get(provider);
          if (!entry) {
            // No live process reports it: still configured, nobody has seen it close.
            if (providerNames.includes(provider)) return [];
            return [{ subject: provider, reason: `${provider} is no longer in the configuration.` }];
          }
          const closed = entry.closedAt === undefined ? '' : `, the latest at ${new Date(entry.closedAt).toISOString()}`;
          return [
            {
              subject: provider,
              reason: `The breaker for ${provider} closed in every live process using it (${entry.live}${closed}): a probe went through.`,
            },
          ];
        });
      return { conditions, resolved };
    },
  };
}
