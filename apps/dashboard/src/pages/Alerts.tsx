import { useQuery } from '@tanstack/react-query';
import { ScopeNote } from '../components/ScopedButton.js';
import { Empty, QueryView } from '../components/states.js';
import { Time } from '../format.js';
import { type MessageKey, useLang } from '../i18n.js';
import { useLive } from '../live.js';
import { useSession } from '../session.js';
import { type Outputs, useTRPC } from '../trpc.js';
import { runbookSections } from './Overview.js';

type Alert = Outputs['alerts']['list']['items'][number];

function AlertItem({ alert }: { readonly alert: Alert }) {
  const { t } = useLang();
  const firing = alert.state === 'firing';
  return (
    <li className={`alert ${firing ? 'alert-firing' : ''}`}>
      <p>
        <span className="badge">
          <span aria-hidden="true">{firing ? '⚠ ' : '✔ '}</span>
          {t(`alertState.${alert.state}` as MessageKey)}
        </span>{' '}
        <strong>{t(`alertKind.${alert.kind}` as MessageKey)}</strong> {alert.subject === '*' ? '' : alert.subject}
      </p>
      <p>{alert.summary}</p>
      <p className="muted">
        <Time at={alert.startedAt} /> – {alert.resolvedAt === undefined ? t('recovery.ongoing') : <Time at={alert.resolvedAt} />} ·{' '}
        {t('overview.runbook')}: <code>docs/runbook.md#{runbookSections[alert.kind] ?? ''}</code>
      </p>
      {alert.notifications.length > 0 && (
        <table className="notices">
          <caption>{t('alerts.notices')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('alerts.sentAt')}</th>
              <th scope="col">{t('alerts.notice')}</th>
              <th scope="col">{t('alerts.channel')}</th>
              <th scope="col">{t('alerts.result')}</th>
            </tr>
          </thead>
          <tbody>
            {alert.notifications.map((notice) => (
              <tr key={notice.id}>
                <td>
                  <Time at={notice.sentAt} />
                </td>
                <td>{notice.kind}</td>
                <td>{notice.channel}</td>
                <td className={notice.ok ? 'ok' : 'bad'}>
                  <span aria-hidden="true">{notice.ok ? '✔ ' : '✖ '}</span>
                  {notice.ok ? t('alerts.delivered') : `${t('alerts.failed')}: ${notice.error ?? ''}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

export function AlertsPage() {
  const { t } = useLang();
  const trpc = useTRPC();
  const { can } = useSession();
  const operator = can('operator');
  useLive();
  const firing = useQuery(trpc.alerts.list.queryOptions({ state: 'firing', limit: 100 }, { enabled: operator }));
  const history = useQuery(trpc.alerts.list.queryOptions({ state: 'resolved', limit: 100 }, { enabled: operator }));
  if (!operator) {
    return (
      <>
        <h1>{t('nav.alerts')}</h1>
        <ScopeNote scope="operator" />
        <p className="muted">{t('alerts.operatorOnly')}</p>
      </>
    );
  }
  return (
    <>
      <h1>{t('nav.alerts')}</h1>
      <h2>{t('alerts.firing')}</h2>
      <QueryView query={firing} empty={t('overview.noAlerts')} isEmpty={(data) => data.items.length === 0}>
        {(data) => (
          <ul className="alerts">
            {data.items.map((alert) => (
              <AlertItem key={alert.id} alert={alert} />
            ))}
          </ul>
        )}
      </QueryView>
      <h2>{t('alerts.history')}</h2>
      <QueryView query={history}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty>{t('alerts.noHistory')}</Empty>
          ) : (
            <ul className="alerts">
              {data.items.map((alert) => (
                <AlertItem key={alert.id} alert={alert} />
              ))}
            </ul>
          )
        }
      </QueryView>
    </>
  );
}
