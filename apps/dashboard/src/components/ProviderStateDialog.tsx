import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type MessageKey, useLang } from '../i18n.js';
import { useTRPC } from '../trpc.js';
import { Dialog } from './Dialog.js';
import { ErrorNote } from './states.js';

const STATES = ['enabled', 'drained', 'disabled', 'forced_open'] as const;
type State = (typeof STATES)[number];

/** Enable / drain / disable / force open, with a required note and what the choice does to new mail and to mail in flight. */
export function ProviderStateDialog({
  provider,
  current,
  onClose,
}: {
  readonly provider: string;
  readonly current: string;
  readonly onClose: () => void;
}) {
  const { t } = useLang();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<State>(current === 'enabled' ? 'drained' : 'enabled');
  const [note, setNote] = useState('');
  const change = useMutation(
    trpc.providers.setState.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        onClose();
      },
    }),
  );
  return (
    <Dialog
      title={t('stateDialog.title', { provider })}
      confirmLabel={t(`stateAction.${state}` as MessageKey)}
      confirmDisabled={note.trim() === '' || state === current}
      busy={change.isPending}
      danger={state !== 'enabled'}
      onClose={onClose}
      onConfirm={() => change.mutate({ provider, state, note: note.trim() })}
    >
      <fieldset>
        <legend>{t('stateDialog.choose')}</legend>
        {STATES.map((option) => (
          <label key={option} className="radio">
            <input type="radio" name="state" value={option} checked={state === option} onChange={() => setState(option)} />
            {t(`stateAction.${option}` as MessageKey)}
            {option === current && <span className="muted"> ({t('stateDialog.current')})</span>}
          </label>
        ))}
      </fieldset>
      <dl className="consequence" aria-live="polite">
        <dt>{t('stateDialog.newMail')}</dt>
        <dd>{t(`stateEffect.${state}.new` as MessageKey)}</dd>
        <dt>{t('stateDialog.inFlight')}</dt>
        <dd>{t(`stateEffect.${state}.inFlight` as MessageKey)}</dd>
      </dl>
      <label htmlFor="state-note">{t('stateDialog.note')}</label>
      <textarea id="state-note" required value={note} onChange={(event) => setNote(event.target.value)} rows={2} maxLength={1000} />
      {note.trim() === '' && <p className="muted">{t('stateDialog.noteRequired')}</p>}
      {change.error && <ErrorNote error={change.error} />}
    </Dialog>
  );
}
