import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { Dialog } from '../components/Dialog.js';
import { HtmlPreview } from '../components/HtmlPreview.js';
import { ScopedButton } from '../components/ScopedButton.js';
import { ErrorNote, QueryView } from '../components/states.js';
import { Time } from '../format.js';
import { type MessageKey, useLang } from '../i18n.js';
import { useLive } from '../live.js';
import { type Outputs, useTRPC } from '../trpc.js';

type Detail = Outputs['mail']['get'];
type Address = Detail['to'][number];

const UNSENT = new Set(['queued', 'scheduled', 'retrying', 'held']);
const RESENDABLE = new Set(['failed', 'dead', 'cancelled']);

function addresses(list: readonly Address[] | undefined): string {
  if (!list || list.length === 0) return '—';
  return list.map((address) => (address.name ? `${address.name} <${address.email}>` : address.email)).join(', ');
}

function entryKey(entry: Detail['timeline'][number]): string {
  if (entry.kind === 'attempt') return entry.attemptId;
  if (entry.kind === 'status') return `status-${entry.at}-${entry.to}`;
  return `event-${entry.at}-${entry.type}-${entry.provider}-${entry.recipient ?? ''}`;
}

function Timeline({ detail }: { readonly detail: Detail }) {
  const { t } = useLang();
  const attempts = new Map(detail.attempts.map((attempt) => [attempt.id, attempt]));
  return (
    <ol className="timeline">
      {detail.timeline.map((entry) => (
        <li key={entryKey(entry)} className={`tl-${entry.kind}`}>
          <Time at={entry.at} />{' '}
          {entry.kind === 'status' && (
            <>
              <span className="tl-kind">{t('timeline.status')}</span> {entry.from ?? '∅'} → <strong>{entry.to}</strong>{' '}
              <span className="muted">{entry.reason}</span>
            </>
          )}
          {entry.kind === 'attempt' &&
            (() => {
              const attempt = attempts.get(entry.attemptId);
              const ok = attempt?.outcome === 'accepted';
              return (
                <>
                  <span className="tl-kind">{t('timeline.attempt')}</span> <strong>{entry.provider}</strong>{' '}
                  <span className={ok ? 'ok' : 'bad'}>
                    <span aria-hidden="true">{ok ? '✔ ' : '✖ '}</span>
                    {ok ? t('timeline.accepted') : t('timeline.failed')}
                  </span>{' '}
                  {attempt && <span className="muted">{attempt.latencyMs} ms</span>}{' '}
                  {attempt?.errorCode && <code>{attempt.errorCode}</code>}
                  {attempt?.statusCode !== undefined && <code> {attempt.statusCode}</code>}
                  {attempt?.errorMessage && <q className="provider-words">{attempt.errorMessage}</q>}
                  {attempt?.providerMessageId && <span className="muted"> {attempt.providerMessageId}</span>}
                </>
              );
            })()}
          {entry.kind === 'event' && (
            <>
              <span className="tl-kind">{t('timeline.event')}</span> <strong>{entry.type}</strong> {t('timeline.from')} {entry.provider}{' '}
              {entry.recipient && <span>{entry.recipient}</span>} {entry.reason && <q className="provider-words">{entry.reason}</q>}{' '}
              <span className="muted">({entry.effect})</span>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

function Actions({ detail }: { readonly detail: Detail }) {
  const { t } = useLang();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<'resend' | 'cancel' | undefined>();
  const done = { onSuccess: () => queryClient.invalidateQueries() };
  const dryRun = useMutation(trpc.mail.retry.mutationOptions());
  const resend = useMutation(trpc.mail.retry.mutationOptions(done));
  const cancel = useMutation(trpc.mail.cancel.mutationOptions(done));
  const preview = dryRun.data;
  return (
    <div className="actions-row">
      {RESENDABLE.has(detail.status) && (
        <ScopedButton
          scope="admin"
          onClick={() => {
            setDialog('resend');
            dryRun.mutate({ ids: [detail.id], dryRun: true });
          }}
        >
          {t('message.resend')}
        </ScopedButton>
      )}
      {UNSENT.has(detail.status) && (
        <ScopedButton scope="send" onClick={() => setDialog('cancel')}>
          {t('message.cancel')}
        </ScopedButton>
      )}
      {resend.data && <p role="status">{resend.data.requeued > 0 ? t('message.resent') : t('message.notResent')}</p>}
      {dialog === 'resend' && (
        <Dialog
          title={t('message.resendTitle')}
          confirmLabel={t('message.resend')}
          confirmDisabled={!preview || preview.requeued === 0}
          busy={resend.isPending}
          onClose={() => setDialog(undefined)}
          onConfirm={() => resend.mutate({ ids: [detail.id], dryRun: false }, { onSettled: () => setDialog(undefined) })}
        >
          {dryRun.isPending && <p>{t('state.loading')}</p>}
          {dryRun.error && <ErrorNote error={dryRun.error} />}
          {preview && preview.requeued > 0 && <p>{t('message.resendWill')}</p>}
          {preview?.keptBack.map((kept) => (
            <p key={kept.reason} className="warn">
              <span aria-hidden="true">⚠ </span>
              {t(`keptBack.${kept.reason}` as MessageKey)} {[...(kept.addresses ?? []), ...(kept.evidence ?? [])].join(', ')}
            </p>
          ))}
        </Dialog>
      )}
      {dialog === 'cancel' && (
        <Dialog
          title={t('message.cancelTitle')}
          confirmLabel={t('message.cancel')}
          danger
          busy={cancel.isPending}
          onClose={() => setDialog(undefined)}
          onConfirm={() => cancel.mutate({ id: detail.id }, { onSuccess: () => setDialog(undefined) })}
        >
          <p>{t('message.cancelWill')}</p>
          {cancel.error && <ErrorNote error={cancel.error} />}
        </Dialog>
      )}
    </div>
  );
}

export function MessagePage() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const trpc = useTRPC();
  useLive();
  const query = useQuery(trpc.mail.get.queryOptions({ id }));
  return (
    <>
      <p>
        <Link to="/messages">← {t('nav.messages')}</Link>
      </p>
      <QueryView query={query}>
        {(detail) => (
          <article className="message">
            <h1>{detail.subject}</h1>
            <p>
              <span className={`status status-${detail.status}`}>{detail.status}</span> <code>{detail.id}</code>
            </p>
            <Actions detail={detail} />
            <dl className="fields">
              <dt>{t('message.from')}</dt>
              <dd>{addresses([detail.from])}</dd>
              <dt>{t('message.to')}</dt>
              <dd>{addresses(detail.message.to)}</dd>
              <dt>Cc</dt>
              <dd>{addresses(detail.message.cc)}</dd>
              <dt>Bcc</dt>
              <dd>{addresses(detail.message.bcc)}</dd>
              <dt>{t('message.created')}</dt>
              <dd>
                <Time at={detail.createdAt} />
              </dd>
              <dt>{t('messages.provider')}</dt>
              <dd>{detail.provider ?? '—'}</dd>
              <dt>{t('message.tags')}</dt>
              <dd>{detail.tags.join(', ') || '—'}</dd>
              <dt>{t('message.idempotencyKey')}</dt>
              <dd>{detail.message.idempotencyKey ?? '—'}</dd>
            </dl>
            <h2>{t('message.timeline')}</h2>
            <Timeline detail={detail} />
            <h2>{t('message.htmlPart')}</h2>
            {detail.message.html ? <HtmlPreview html={detail.message.html} /> : <p className="muted">{t('message.noHtml')}</p>}
            <h2>{t('message.textPart')}</h2>
            {detail.message.text ? <pre className="text-part">{detail.message.text}</pre> : <p className="muted">{t('message.noText')}</p>}
            <h2>{t('message.headers')}</h2>
            {Object.keys(detail.message.headers).length === 0 ? (
              <p className="muted">{t('message.noHeaders')}</p>
            ) : (
              <table className="headers">
                <tbody>
                  {Object.entries(detail.message.headers).map(([name, value]) => (
                    <tr key={name}>
                      <th scope="row">{name}</th>
                      <td>{value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </article>
        )}
      </QueryView>
    </>
  );
}
