import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Dialog } from '../components/Dialog.js';
import { ScopedButton } from '../components/ScopedButton.js';
import { ErrorNote, Loading } from '../components/states.js';
import { count, Time } from '../format.js';
import { type MessageKey, useLang } from '../i18n.js';
import { type Outputs, useTRPC, useTRPCClient } from '../trpc.js';

type Report = Outputs['mail']['retry'];
/** Above this many messages the operator types the count to confirm. */
export const TYPE_TO_CONFIRM_ABOVE = 100;
const RECOVERABLE = ['failed', 'dead', 'cancelled'] as const;
const KEPT_BACK = ['suppressed', 'provider_has_it', 'not_retryable'] as const;

/** `2026-12-07T16:03` in the browser's zone, for a datetime-local input. */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

interface Filter {
  status: ('failed' | 'dead' | 'cancelled')[];
  provider?: string;
  createdFrom?: string;
  createdTo?: string;
}

function filterOf(params: URLSearchParams): Filter {
  const status = (params.get('status') ?? 'failed,dead')
    .split(',')
    .filter((s): s is Filter['status'][number] => (RECOVERABLE as readonly string[]).includes(s));
  const filter: Filter = { status: status.length > 0 ? status : ['failed', 'dead'] };
  const provider = params.get('provider');
  const from = params.get('from');
  const to = params.get('to');
  if (provider) filter.provider = provider;
  if (from) filter.createdFrom = from;
  if (to) filter.createdTo = to;
  return filter;
}

interface Outage {
  readonly subject: string;
  readonly startedAt: number;
  readonly resolvedAt?: number;
}

/** The latest stretch in which a provider's breaker was open in some process, from the day's breaker changes. */
export function lastOutage(events: readonly { provider: string; to: string; at: number }[]): Outage | undefined {
  let latest: Outage | undefined;
  const open = new Map<string, number>();
  for (const event of [...events].sort((a, b) => a.at - b.at)) {
    if (event.to === 'open' && !open.has(event.provider)) open.set(event.provider, event.at);
    if (event.to === 'closed' && open.has(event.provider)) {
      latest = { subject: event.provider, startedAt: open.get(event.provider) ?? event.at, resolvedAt: event.at };
      open.delete(event.provider);
    }
  }
  for (const [provider, at] of open) if (!latest || at > latest.startedAt) latest = { subject: provider, startedAt: at };
  return latest;
}

function requeuedLink(report: Report, since: number): string {
  const q =
    report.requeuedIds.length <= TYPE_TO_CONFIRM_ABOVE ? `id:${report.requeuedIds.join(',')}` : `after:${new Date(since).toISOString()}`;
  return `/messages?q=${encodeURIComponent(q)}`;
}

function KeptBack({ report }: { readonly report: Report }) {
  const { t, lang } = useLang();
  return (
    <ul className="kept-back">
      {KEPT_BACK.map((reason) => (
        <li key={reason}>
          {t(`keptBack.${reason}` as MessageKey)}: <strong>{count(report.keptBackCount[reason] ?? 0, lang)}</strong>
        </li>
      ))}
    </ul>
  );
}

export function RecoveryPage() {
  const { t, lang } = useLang();
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filter = filterOf(params);
  const providers = useQuery(trpc.providers.list.queryOptions());
  const lastAlert = useQuery(trpc.alerts.list.queryOptions({ kind: 'breaker_open', limit: 1 }));
  const day = useQuery(trpc.stats.series.queryOptions({ range: '24h' }));
  const [typed, setTyped] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [startedAt, setStartedAt] = useState(0);

  const dryRun = useMutation({
    mutationFn: async (target: Filter) => {
      const names = (providers.data ?? (await client.providers.list.query())).map((provider) => provider.name);
      const perProvider = target.provider ? [target.provider] : names;
      const [total, ...each] = await Promise.all([
        client.mail.retry.mutate({ filter: target, dryRun: true }),
        ...perProvider.map((provider) => client.mail.retry.mutate({ filter: { ...target, provider }, dryRun: true })),
      ]);
      if (!total) throw new Error('no answer');
      return { total, perProvider: perProvider.map((provider, index) => ({ provider, report: each[index] })) };
    },
  });
  const run = useMutation(trpc.mail.retry.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));

  function update(next: Record<string, string | undefined>) {
    const merged = new URLSearchParams(params);
    for (const [name, value] of Object.entries(next)) {
      if (value) merged.set(name, value);
      else merged.delete(name);
    }
    setParams(merged);
    dryRun.reset();
    run.reset();
  }

  const preview = dryRun.data?.total;
  const needsTyping = (preview?.requeued ?? 0) > TYPE_TO_CONFIRM_ABOVE;
  const alert = lastAlert.data?.items[0];
  const outage: Outage | undefined = alert ?? lastOutage(day.data?.breakerEvents ?? []);

  return (
    <>
      <h1>{t('nav.recovery')}</h1>
      <p className="muted">{t('recovery.intro')}</p>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          dryRun.mutate(filter);
        }}
      >
        <fieldset>
          <legend>{t('recovery.statuses')}</legend>
          {RECOVERABLE.map((status) => (
            <label key={status} className="check">
              <input
                type="checkbox"
                checked={filter.status.includes(status)}
                onChange={(event) => {
                  const next = event.target.checked ? [...filter.status, status] : filter.status.filter((s) => s !== status);
                  update({ status: next.join(',') });
                }}
              />
              {status}
            </label>
          ))}
        </fieldset>
        <label>
          {t('recovery.from')}
          <input
            type="datetime-local"
            value={toLocalInput(params.get('from'))}
            onChange={(event) => update({ from: fromLocalInput(event.target.value) })}
          />
        </label>
        <label>
          {t('recovery.to')}
          <input
            type="datetime-local"
            value={toLocalInput(params.get('to'))}
            onChange={(event) => update({ to: fromLocalInput(event.target.value) })}
          />
        </label>
        <label>
          {t('messages.provider')}
          <select value={filter.provider ?? ''} onChange={(event) => update({ provider: event.target.value || undefined })}>
            <option value="">{t('recovery.anyProvider')}</option>
            {(providers.data ?? []).map((provider) => (
              <option key={provider.name} value={provider.name}>
                {provider.name}
              </option>
            ))}
          </select>
        </label>
        <div className="actions-row">
          <ScopedButton scope="admin" type="submit" disabled={dryRun.isPending || filter.status.length === 0}>
            {t('recovery.dryRun')}
          </ScopedButton>
          {outage && (
            <button
              type="button"
              onClick={() =>
                update({
                  from: new Date(outage.startedAt).toISOString(),
                  to: outage.resolvedAt === undefined ? undefined : new Date(outage.resolvedAt).toISOString(),
                  status: 'failed,dead',
                  provider: undefined,
                })
              }
            >
              {t('recovery.outagePreset', { subject: outage.subject })}
            </button>
          )}
        </div>
        {outage && (
          <p className="muted">
            {t('recovery.outageWas', { subject: outage.subject })} <Time at={outage.startedAt} /> –{' '}
            {outage.resolvedAt === undefined ? t('recovery.ongoing') : <Time at={outage.resolvedAt} />}
          </p>
        )}
      </form>
      {dryRun.isPending && <Loading />}
      {dryRun.error && <ErrorNote error={dryRun.error} />}
      {preview && !run.data && (
        <section className="report" aria-labelledby="dry-run-title">
          <h2 id="dry-run-title">{t('recovery.dryRunTitle')}</h2>
          <dl className="numbers">
            <dt>{t('recovery.matched')}</dt>
            <dd data-testid="matched">{count(preview.matched, lang)}</dd>
            <dt>{t('recovery.wouldResend')}</dt>
            <dd data-testid="would-resend">{count(preview.requeued, lang)}</dd>
          </dl>
          <h3>{t('recovery.keptBack')}</h3>
          <KeptBack report={preview} />
          <h3>{t('recovery.perProvider')}</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('messages.provider')}</th>
                <th scope="col">{t('recovery.matched')}</th>
                <th scope="col">{t('recovery.wouldResend')}</th>
                {KEPT_BACK.map((reason) => (
                  <th scope="col" key={reason}>
                    {t(`keptBack.${reason}` as MessageKey)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {dryRun.data?.perProvider.map(({ provider, report }) => (
                <tr key={provider}>
                  <th scope="row">{provider}</th>
                  <td>{report?.matched ?? 0}</td>
                  <td>{report?.requeued ?? 0}</td>
                  {KEPT_BACK.map((reason) => (
                    <td key={reason}>{report?.keptBackCount[reason] ?? 0}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">{t('recovery.perProviderNote')}</p>
          <ScopedButton scope="admin" className="primary" disabled={preview.requeued === 0} onClick={() => setConfirming(true)}>
            {t('recovery.resendN', { n: preview.requeued })}
          </ScopedButton>
        </section>
      )}
      {confirming && preview && (
        <Dialog
          title={t('recovery.confirmTitle')}
          confirmLabel={t('recovery.resendN', { n: preview.requeued })}
          confirmDisabled={needsTyping && typed.trim() !== String(preview.requeued)}
          busy={run.isPending}
          onClose={() => setConfirming(false)}
          onConfirm={() => {
            setStartedAt(Date.now());
            run.mutate(
              { filter, dryRun: false, reason: 'recovery from the console' },
              {
                onSettled: () => {
                  setConfirming(false);
                  setTyped('');
                },
              },
            );
          }}
        >
          <p>{t('recovery.confirmText', { n: preview.requeued })}</p>
          {needsTyping && (
            <label>
              {t('recovery.typeCount', { n: preview.requeued })}
              <input inputMode="numeric" value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
            </label>
          )}
        </Dialog>
      )}
      {run.error && <ErrorNote error={run.error} />}
      {run.data && (
        <section className="report" aria-labelledby="report-title">
          <h2 id="report-title">{t('recovery.reportTitle')}</h2>
          <p role="status" data-testid="requeued">
            <span aria-hidden="true">✔ </span>
            {t('recovery.requeued', { n: run.data.requeued, matched: run.data.matched })}
          </p>
          <KeptBack report={run.data} />
          {run.data.requeued > 0 && <Link to={requeuedLink(run.data, startedAt)}>{t('recovery.viewRequeued')}</Link>}
        </section>
      )}
    </>
  );
}
