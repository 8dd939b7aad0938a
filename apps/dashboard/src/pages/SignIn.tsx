import { type FormEvent, useState } from 'react';
import { useLang } from '../i18n.js';
import { useSession } from '../session.js';
import { isConnectionError } from '../trpc.js';

export function SignInPage() {
  const { state, signIn } = useSession();
  const { t } = useLang();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const notice =
    state.status === 'expired'
      ? t('signin.expired')
      : state.status === 'signed-out' && state.reason === 'signed-out'
        ? t('signin.signedOut')
        : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (key.trim() === '') return setError(t('signin.empty'));
    setBusy(true);
    setError(undefined);
    try {
      const next = await signIn(key);
      if (next.status === 'signed-out') setError(next.reason === 'no-read' ? t('signin.noRead') : t('signin.wrongKey'));
      else setKey('');
    } catch (failure) {
      setError(isConnectionError(failure) ? t('connection.lost') : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <h1>{t('signin.title')}</h1>
      {notice && (
        <p className="banner banner-info" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label htmlFor="api-key">{t('signin.keyLabel')}</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-describedby="api-key-help"
          aria-invalid={error ? true : undefined}
        />
        <p id="api-key-help" className="muted">
          {t('signin.keyHelp')}
        </p>
        {error && (
          <p className="error" role="alert">
            <span aria-hidden="true">✖ </span>
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t('signin.checking') : t('signin.submit')}
        </button>
      </form>
    </main>
  );
}
