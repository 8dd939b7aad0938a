import { type BreakerState, type MessageStatus, messageStatuses, type Router, unsentStatuses } from '@mailroute/core';
import { alertKinds, type MailStore, type ProcessHeartbeat } from '@mailroute/store';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReloadResult } from '../runtime/reload.js';

export interface MetricsOptions {
  readonly store: MailStore;
  /** The router sends go through now, in a process that runs one (roles all and worker). */
  readonly liveRouter?: () => Router | undefined;
  /** Heartbeats older than this are dead processes (`health.staleAfterMs`). */
  readonly staleAfterMs: number;
  readonly now?: () => number;
  /**
   * Also the figures read from the database at scrape time (default). Off in a worker-only
   * process: every API process shows them, and the queries would load Prisma's query
   * compiler there (about 75 MB more memory, measured).
   */
  readonly databaseMetrics?: boolean;
  /** Hears a failed database read during a scrape; the scrape still answers, with `mailroute_database_up` 0. */
  readonly onError?: (error: unknown) => void;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Counts this router's attempts, failovers, skips and breaker changes (each router a reload builds too). */
  observeRouter(router: Router): void;
  /** Counts a configuration reload's outcome: a rejected file shows until a valid one is in force. */
  observeConfigReload(result: ReloadResult): void;
  /** Reads the database-derived figures, then renders every metric in the Prometheus text format. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** What the database says at scrape time: the same in every process, read when Prometheus asks. */
interface Snapshot {
  readonly counts: Record<MessageStatus, number>;
  readonly oldestUnsentAt: number | undefined;
  readonly eventsByType: Record<string, number>;
  readonly firingByKind: Record<string, number>;
  readonly heartbeats: readonly ProcessHeartbeat[];
}

const breakerStates: readonly BreakerState[] = ['closed', 'open', 'half_open'];
/** Provider calls take milliseconds to the provider's timeout (tens of seconds). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createServiceMetrics(options: MetricsOptions): ServiceMetrics {
  const { store } = options;
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const registers = [registry];
  const databaseRegisters = options.databaseMetrics === false ? [] : registers;
  collectDefaultMetrics({ register: registry });
  let snapshot: Snapshot | undefined;

  const attempts = new Counter({
    name: 'mailroute_provider_attempts_total',
    help: 'Provider calls made by this process, by provider, outcome (accepted, failed) and error category of a failure.',
    labelNames: ['provider', 'outcome', 'category'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'mailroute_provider_latency_seconds',
    help: 'Duration of provider calls made by this process, by provider and outcome.',
    labelNames: ['provider', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const failovers = new Counter({
    name: 'mailroute_failovers_total',
    help: 'Messages this process moved on to the next provider after a provider fault, by the provider that failed.',
    labelNames: ['from'] as const,
    registers,
  });
  const skips = new Counter({
    name: 'mailroute_provider_skips_total',
    help: 'Providers passed over without a call by this process (breaker open, disabled, excluded), by provider and error code.',
    labelNames: ['provider', 'code'] as const,
    registers,
  });
  const transitions = new Counter({
    name: 'mailroute_breaker_transitions_total',
    help: 'Breaker state changes in this process, by provider and the state entered.',
    labelNames: ['provider', 'state'] as const,
    registers,
  });
  new Gauge({
    name: 'mailroute_breaker_state',
    help: "This process's breaker per provider: 1 for its current state (closed, open, half_open), 0 for the others.",
    labelNames: ['provider', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const health of options.liveRouter?.()?.health() ?? []) {
        for (const state of breakerStates) this.set({ provider: health.name, state }, health.state === state ? 1 : 0);
      }
    },
  });

  const reloadFailures = new Counter({
    name: 'mailroute_config_reload_failures_total',
    help: 'Configuration reloads this process rejected (file missing, unreadable or invalid; no providers left); the previous configuration stayed in force.',
    registers,
  });
  const configValid = new Gauge({
    name: 'mailroute_config_valid',
    help: "Whether this process's last configuration read was valid and is in force (1), or was rejected and an older configuration still runs (0).",
    registers,
  });
  configValid.set(1);

  new Gauge({
    name: 'mailroute_database_up',
    help: 'Whether the last scrape could read the database-derived metrics (1) or not (0).',
    registers: databaseRegisters,
    collect() {
      this.set(snapshot ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mailroute_messages',
    help: 'Messages stored, by status (every tenant).',
    labelNames: ['status'] as const,
    registers: databaseRegisters,
    collect() {
      this.reset();
      if (!snapshot) return;
      for (const status of messageStatuses) this.set({ status }, snapshot.counts[status]);
    },
  });
  new Gauge({
    name: 'mailroute_queue_depth',
    help: `Messages not yet handed to a provider for good (${unsentStatuses.join(', ')}).`,
    registers: databaseRegisters,
    collect() {
      this.reset();
      if (snapshot) this.set(unsentStatuses.reduce((sum, status) => sum + (snapshot?.counts[status] ?? 0), 0));
    },
  });
  new Gauge({
    name: 'mailroute_oldest_undelivered_age_seconds',
    help: 'Age of the oldest message not yet handed to a provider (scheduled mail counts from its send time); 0 when there is none.',
    registers: databaseRegisters,
    collect() {
      this.reset();
      if (!snapshot) return;
      this.set(snapshot.oldestUnsentAt === undefined ? 0 : Math.max(0, now() - snapshot.oldestUnsentAt) / 1000);
    },
  });
  new Counter({
    name: 'mailroute_webhook_events_total',
    help: 'Provider webhook events stored, by normalized type (rows are never deleted).',
    labelNames: ['type'] as const,
    registers: databaseRegisters,
    collect() {
      this.reset();
      for (const [type, count] of Object.entries(snapshot?.eventsByType ?? {})) this.inc({ type }, count);
    },
  });
  new Gauge({
    name: 'mailroute_alerts_firing',
    help: 'Alert incidents firing now, by kind.',
    labelNames: ['kind'] as const,
    registers: databaseRegisters,
    collect() {
      this.reset();
      for (const [kind, count] of Object.entries(snapshot?.firingByKind ?? {})) this.set({ kind }, count);
    },
  });
  new Gauge({
    name: 'mailroute_processes',
    help: 'Processes with a router (roles all and worker) that reported a heartbeat recently, by role.',
    labelNames: ['role'] as const,
    registers: databaseRegisters,
    collect() {
      this.reset();
      // Both roles always present: `mailroute_processes{role="worker"} == 0` is worth an alert.
      const byRole = new Map<string, number>([
        ['all', 0],
        ['worker', 0],
      ]);
      for (const beat of snapshot?.heartbeats ?? []) byRole.set(beat.role, (byRole.get(beat.role) ?? 0) + 1);
      if (snapshot) for (const [role, count] of byRole) this.set({ role }, count);
    },
  });
  new Gauge({
    name: 'mailroute_breakers_open',
    help: 'Live processes whose breaker for the provider is open (from heartbeats: every process, not only this one).',
    labelNames: ['provider'] as const,
    registers: databaseRegisters,
    collect() {
      this.reset();
      const open = new Map<string, number>();
      for (const beat of snapshot?.heartbeats ?? []) {
        for (const [provider, breaker] of Object.entries(beat.breakers)) {
          open.set(provider, (open.get(provider) ?? 0) + (breaker.state === 'open' ? 1 : 0));
        }
      }
      for (const [provider, count] of open) this.set({ provider }, count);
    },
  });

  async function readSnapshot(): Promise<Snapshot | undefined> {
    try {
      const [counts, oldestUnsentAt, eventsByType, firing, heartbeats] = await Promise.all([
        store.countByStatus(),
        store.oldestUnsentAt(),
        store.countEventsByType(),
        store.firingAlerts(),
        store.listHeartbeats({ since: now() - options.staleAfterMs }),
      ]);
      // Every kind always present (0 when quiet): a series that vanishes is harder to alert on.
      const firingByKind: Record<string, number> = Object.fromEntries(alertKinds.map((kind) => [kind, 0]));
      for (const alert of firing) firingByKind[alert.kind] = (firingByKind[alert.kind] ?? 0) + 1;
      return { counts, oldestUnsentAt, eventsByType, firingByKind, heartbeats };
    } catch (error) {
      options.onError?.(error);
      return undefined;
    }
  }

  return {
    registry,
    observeRouter(router) {
      router.on('attempt', (attempt) => {
        const category = attempt.outcome === 'accepted' ? '' : (attempt.error?.category ?? 'unknown');
        attempts.inc({ provider: attempt.provider, outcome: attempt.outcome, category });
        latency.observe({ provider: attempt.provider, outcome: attempt.outcome }, attempt.latencyMs / 1000);
      });
      router.on('failover', (event) => failovers.inc({ from: event.from }));
      router.on('skip', (event) => skips.inc({ provider: event.provider, code: event.error.code }));
      router.on('breaker', (event) => transitions.inc({ provider: event.provider, state: event.state }));
    },
    observeConfigReload(result) {
      if (result.status === 'rejected') reloadFailures.inc();
      configValid.set(result.status === 'rejected' ? 0 : 1);
    },
    async render() {
      if (databaseRegisters.length > 0) snapshot = await readSnapshot();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
