import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { FailoverTimeline } from '../components/FailoverTimeline.js';
import { ProviderStateDialog } from '../components/ProviderStateDialog.js';
import { ScopedButton, ScopeNote } from '../components/ScopedButton.js';
import { Sparkline } from '../components/Sparkline.js';
import { ErrorNote, QueryView } from '../components/states.js';
import { count, duration, percent, Time } from '../format.js';
import { type MessageKey, useLang } from '../i18n.js';
import { useLive, useLiveOverview } from '../live.js';
import { useSession } from '../session.js';
import { type Outputs, useTRPC } from '../trpc.js';

type Health = Outputs['providers']['health'];
type Provider = Health['providers'][number];
type Overview = Outputs['stats']['overview'];
type Alert = Outputs['alerts']['list']['items'][number];
type Series = Outputs['stats']['series'];
type Audit = Outputs['providers']['audit'][number];

/** Percentiles from fewer attempts than this are drawn faint and say so. */
const LOW_CONFIDENCE = 5;
const WINDOWS = ['1m', '15m', '1h'] as const;
const WINDOWS_REFRESH_MS = 15_000;

export const runbookSections: Record<string, string> = {
  late_delivery: 'late-delivery',
  breaker_open: 'breaker-open',
  dead_messages: 'messages-went-dead',
  all_providers_failing: 'every-provider-failing',
};

export function StateBadge({ state }: { readonly state: string }) {
  const { t } = useLang();
  const icon = state === 'enabled' ? '●' : state === 'drained' ? '◐' : state === 'disabled' ? '■' : '⚡';
  return (
    <span className={`badge state-${state}`}>
      <span aria-hidden="true">{icon} </span>
      {t(`providerState.${state}` as MessageKey)}
    </span>
  );
}

export function BreakerBadge({ state }: { readonly state: string }) {
  const { t } = useLang();
  const icon = state === 'closed' ? '✔' : state === 'open' ? '✖' : '◌';
  return (
    <span className={`badge breaker-${state}`}>
      <span aria-hidden="true">{icon} </span>
      {t(`breaker.${state}` as MessageKey)}
    </span>
  );
}

/** Success rate per bucket of the series (gaps where nothing was tried), for the card's sparkline. */
function rateLine(series: Series | undefined, provider: string): { x: number[]; y: (number | null)[] } | undefined {
  const line = series?.providers.find((entry) => entry.provider === provider);
  if (!series || !line) return undefined;
  return {
    x: series.buckets.map((at) => at / 1000),
    y: line.accepted.map((accepted, index) => {
      const tried = accepted + (line.failed[index] ?? 0);
      return tried === 0 ? null : (accepted / tried) * 100;
    }),
  };
}

function AuditTrail({ entries }: { readonly entries: readonly Audit[] }) {
  const { t } = useLang();
  if (entries.length === 0) return null;
  return (
    <div className="audit">
      <h4>{t('card.audit')}</h4>
      <ul>
        {entries.slice(0, 3).map((entry) => (
          <li key={entry.id}>
            <Time at={entry.at} /> <StateBadge state={entry.before.state} /> → <StateBadge state={entry.after.state} />{' '}
            <span className="muted">{entry.actor ? t('card.by', { name: entry.actor.keyName }) : t('card.byCli')}</span>
            {entry.note && <q>{entry.note}</q>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Summary({ overview, alerts }: { readonly overview: Overview; readonly alerts: readonly Alert[] }) {
  const { t, lang } = useLang();
  const lateAlert = alerts.find((alert) => alert.kind === 'late_delivery');
  const threshold =
    (overview as { lateAfterMs?: number }).lateAfterMs ??
    (typeof lateAlert?.detail.thresholdMs === 'number' ? lateAlert.detail.thresholdMs : undefined);
  const age = overview.oldestUnsentAgeMs;
  const late = age !== undefined && threshold !== undefined && age > threshold;
  const statuses = Object.entries(overview.counts).filter(([, n]) => n > 0);
  return (
    <section className="summary" aria-label={t('overview.summary')}>
      <div className="stat">
        <span className="stat-label">{t('overview.queueDepth')}</span>
        <span className="stat-value">{count(overview.queueDepth, lang)}</span>
      </div>
      <div className={`stat ${late ? 'stat-bad' : ''}`}>
        <span className="stat-label">{t('overview.oldestUnsent')}</span>
        <span className="stat-value">
          {late && <span aria-hidden="true">⚠ </span>}
          {age === undefined ? t('overview.nothingWaiting') : duration(age)}
        </span>
        {late && threshold !== undefined && <span className="stat-note">{t('overview.late', { threshold: duration(threshold) })}</span>}
      </div>
      <div className="stat stat-wide">
        <span className="stat-label">{t('overview.byStatus')}</span>
        <ul className="status-counts">
          {statuses.length === 0 && <li className="muted">{t('overview.noMessages')}</li>}
          {statuses.map(([status, n]) => (
            <li key={status}>
              <Link to={`/messages?q=${encodeURIComponent(`status:${status}`)}`}>
                <span className={`status status-${status}`}>{status}</span> {count(n, lang)}
              </Link>
            </li>
          ))}
        </ul>
      </div>
      <div className="stat">
        <span className="stat-label">{t('overview.processes')}</span>
        <span className="stat-value">{overview.providers.processes}</span>
      </div>
    </section>
  );
}

function FiringAlerts({ alerts }: { readonly alerts: readonly Alert[] }) {
  const { t } = useLang();
  if (alerts.length === 0) {
    return (
      <p className="ok-line">
        <span aria-hidden="true">✔ </span>
        {t('overview.noAlerts')}
      </p>
    );
  }
  return (
    <section className="firing" aria-label={t('overview.firing')}>
      <h2>
        <span aria-hidden="true">⚠ </span>
        {t('overview.firing')}
      </h2>
      <ul>
        {alerts.map((alert) => (
          <li key={alert.id}>
            <strong>{t(`alertKind.${alert.kind}` as MessageKey)}</strong> {alert.subject === '*' ? '' : alert.subject} — {alert.summary}{' '}
            <span className="muted">
              {t('overview.since')} <Time at={alert.startedAt} />
            </span>{' '}
            <span className="runbook">
              {t('overview.runbook')}: <code>docs/runbook.md#{runbookSections[alert.kind] ?? ''}</code>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Breakers({ provider }: { readonly provider: Provider }) {
  const { t } = useLang();
  const { can } = useSession();
  const states = new Set(provider.breakers.map((breaker) => breaker.state));
  // A tenant's key gets no process list, only the counts: that is not "no process".
  const hidden = !can('operator');
  return (
    <div className="breakers">
      <h4>{t('card.breakers')}</h4>
      {hidden ? (
        <p className="needs-scope">
          <span aria-hidden="true">⊘ </span>
          {t('scope.missing', { scope: 'operator' })}
        </p>
      ) : (
        provider.breakers.length === 0 && <p className="muted">{t('card.noProcesses')}</p>
      )}
      {states.size > 1 && (
        <p className="warn" role="note">
          <span aria-hidden="true">⚠ </span>
          {t('card.disagree')}
        </p>
      )}
      <ul>
        {provider.breakers.map((breaker) => (
          <li key={breaker.process}>
            <BreakerBadge state={breaker.state} /> <span className="muted">{breaker.host}</span>{' '}
            <span className="muted">
              {t('card.since')} <Time at={breaker.since} />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Windows({ provider }: { readonly provider: Provider }) {
  const { t } = useLang();
  return (
    <table className="windows">
      <caption className="visually-hidden">{t('card.windows')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('card.window')}</th>
          <th scope="col">{t('card.attempts')}</th>
          <th scope="col">{t('card.successRate')}</th>
          <th scope="col">p95</th>
        </tr>
      </thead>
      <tbody>
        {WINDOWS.map((name) => {
          const window = provider.windows[name];
          const low = window.attempts > 0 && window.attempts < LOW_CONFIDENCE;
          return (
            <tr key={name} className={low ? 'faint' : undefined} title={low ? t('card.lowConfidence') : undefined}>
              <th scope="row">{name}</th>
              <td>{window.attempts}</td>
              <td>{percent(window.successRate)}</td>
              <td>
                {window.latencyP95Ms === undefined ? '—' : `${Math.round(window.latencyP95Ms)} ms`}
                {low && <span className="visually-hidden"> ({t('card.lowConfidence')})</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ProviderCard({
  provider,
  line,
  audit,
  picked,
}: {
  readonly provider: Provider;
  readonly line: { x: number[]; y: (number | null)[] } | undefined;
  readonly audit: readonly Audit[];
  readonly picked: boolean;
}) {
  const { t } = useLang();
  const [changing, setChanging] = useState(false);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (picked) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [picked]);
  const categories = Object.entries(provider.windows['15m'].failedByCategory).filter(([, n]) => n > 0);
  const openBreaker = provider.openIn > 0;
  return (
    <article
      ref={ref}
      aria-current={picked ? 'true' : undefined}
      className={`card ${openBreaker ? 'card-bad' : ''} ${picked ? 'card-picked' : ''}`}
      aria-labelledby={`provider-${provider.name}`}
      data-provider={provider.name}
    >
      <header>
        <h3 id={`provider-${provider.name}`}>
          {provider.name} <span className="muted">{provider.type}</span>
        </h3>
        <StateBadge state={provider.state} />
      </header>
      {provider.note && (
        <p className="note">
          {t('card.note')}: {provider.note}
          {provider.stateUpdatedAt !== undefined && (
            <>
              {' '}
              · <Time at={provider.stateUpdatedAt} />
            </>
          )}
        </p>
      )}
      <p className="open-in" data-testid="open-in">
        {openBreaker ? t('card.openIn', { open: provider.openIn, all: provider.liveIn }) : t('card.closedIn', { all: provider.liveIn })}
      </p>
      <Breakers provider={provider} />
      <Windows provider={provider} />
      {line && <Sparkline x={line.x} y={line.y} max={100} label={t('card.sparkline')} />}
      <dl className="facts">
        <dt>{t('card.byCategory')}</dt>
        <dd>{categories.length === 0 ? t('card.noFailures') : categories.map(([category, n]) => `${category}: ${n}`).join(', ')}</dd>
        <dt>{t('card.lastSuccess')}</dt>
        <dd>
          {provider.lastSuccessAt === undefined ? (
            t('card.never')
          ) : (
            <>
              <Time at={provider.lastSuccessAt} /> ({t('card.ago', { ago: duration(provider.sinceLastSuccessMs ?? 0) })})
            </>
          )}
        </dd>
        <dt>{t('card.lastError')}</dt>
        <dd className="provider-words">
          {provider.lastError ? (
            <>
              <Time at={provider.lastError.at} /> <code>{provider.lastError.errorCode}</code>
              {provider.lastError.statusCode !== undefined && <code> {provider.lastError.statusCode}</code>}
              <q>{provider.lastError.errorMessage ?? '—'}</q>
            </>
          ) : (
            t('card.none')
          )}
        </dd>
        <dt>{t('card.deliveryLag')}</dt>
        <dd>
          {provider.deliveryLag
            ? `p50 ${duration(provider.deliveryLag.p50Ms)} · p95 ${duration(provider.deliveryLag.p95Ms)} (${provider.deliveryLag.delivered})`
            : t('card.noDeliveries')}
        </dd>
      </dl>
      <AuditTrail entries={audit} />
      <footer>
        <ScopedButton scope="operator" onClick={() => setChanging(true)}>
          {t('card.changeState')}
        </ScopedButton>
        <Link to={`/messages?q=${encodeURIComponent(`provider:${provider.name}`)}`}>{t('card.messages')}</Link>
      </footer>
      {changing && <ProviderStateDialog provider={provider.name} current={provider.state} onClose={() => setChanging(false)} />}
    </article>
  );
}

const RANGES = ['1h', '24h'] as const;

export function OverviewPage() {
  const trpc = useTRPC();
  const { t } = useLang();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const range = params.get('range') === '24h' ? '24h' : '1h';
  // Alert notices link here with the provider at fault picked: its card is marked and the timeline shows it alone.
  const picked = params.get('provider') ?? undefined;
  useLiveOverview();
  // The windows (1 min, 15 min, 1 h) age without any change for the stream to announce.
  useLive(WINDOWS_REFRESH_MS);
  const health = useQuery(trpc.providers.health.queryOptions());
  const overview = useQuery(trpc.stats.overview.queryOptions());
  const operator = can('operator');
  const firing = useQuery(trpc.alerts.list.queryOptions({ state: 'firing', limit: 50 }, { enabled: operator }));
  const series = useQuery(trpc.stats.series.queryOptions(picked ? { range, provider: picked } : { range }));
  const audit = useQuery(trpc.providers.audit.queryOptions({ limit: 100 }, { enabled: operator }));
  const alerts = firing.data?.items ?? [];
  const auditOf = (provider: string) => (audit.data ?? []).filter((entry) => entry.provider === provider);
  return (
    <>
      <h1>{t('nav.overview')}</h1>
      <QueryView query={overview}>{(data) => <Summary overview={data} alerts={alerts} />}</QueryView>
      {!operator ? (
        <ScopeNote scope="operator" what={t('nav.alerts')} />
      ) : firing.error ? (
        <ErrorNote error={firing.error} />
      ) : (
        <FiringAlerts alerts={alerts} />
      )}
      <h2>{t('overview.providers')}</h2>
      {!operator && <ScopeNote scope="operator" what={t('overview.providerActions')} />}
      <QueryView query={health} empty={t('overview.noProviders')} isEmpty={(data) => data.providers.length === 0}>
        {(data) => (
          <div className="cards">
            {data.providers.map((provider) => (
              <ProviderCard
                key={provider.name}
                provider={provider}
                line={rateLine(series.data, provider.name)}
                audit={auditOf(provider.name)}
                picked={provider.name === picked}
              />
            ))}
          </div>
        )}
      </QueryView>
      <div className="section-head">
        <h2>{t('timeline.title')}</h2>
        <fieldset className="segmented">
          <legend className="visually-hidden">{t('timeline.range')}</legend>
          {RANGES.map((option) => (
            <label key={option}>
              <input
                type="radio"
                name="range"
                value={option}
                checked={range === option}
                onChange={() => {
                  const next = new URLSearchParams(params);
                  next.set('range', option);
                  setParams(next);
                }}
              />
              {t(`timeline.range.${option}` as MessageKey)}
            </label>
          ))}
        </fieldset>
      </div>
      {picked && (
        <p>
          {t('timeline.only', { provider: picked })} <Link to={`/?range=${range}`}>{t('timeline.showAll')}</Link>
        </p>
      )}
      <QueryView query={series}>{(data) => <FailoverTimeline series={data} />}</QueryView>
    </>
  );
}
