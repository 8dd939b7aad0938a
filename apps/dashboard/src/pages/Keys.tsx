import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Dialog } from '../components/Dialog.js';
import { ScopedButton, ScopeNote } from '../components/ScopedButton.js';
import { ErrorNote, QueryView } from '../components/states.js';
import { Time } from '../format.js';
import { useLang } from '../i18n.js';
import { type Scope, useSession } from '../session.js';
import { useTRPC } from '../trpc.js';

const SCOPES: readonly Scope[] = ['send', 'read', 'admin', 'operator'];

export function KeysPage() {
  const { t } = useLang();
  const trpc = useTRPC();
  const { can } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | undefined>();
  const list = useQuery(trpc.keys.list.queryOptions(undefined, { enabled: can('admin') }));
  const done = { onSuccess: () => queryClient.invalidateQueries() };
  const create = useMutation(trpc.keys.create.mutationOptions(done));
  const revoke = useMutation(trpc.keys.revoke.mutationOptions(done));

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({ name: name.trim(), scopes }, { onSuccess: () => setName('') });
  }

  return (
    <>
      <h1>{t('nav.keys')}</h1>
      {!can('admin') && <ScopeNote scope="admin" />}
      <form className="inline-form" onSubmit={submit}>
        <label>
          {t('keys.name')}
          <input required maxLength={100} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <fieldset>
          <legend>{t('keys.scopes')}</legend>
          {SCOPES.map((scope) => {
            // Only an operator key creates operator keys; the server refuses the others.
            const grantable = scope !== 'operator' || can('operator');
            return (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  disabled={!grantable}
                  checked={grantable && scopes.includes(scope)}
                  onChange={(event) => setScopes(event.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
                />
                {scope}
                {!grantable && can('admin') && <span className="needs-scope">{t('scope.missing', { scope: 'operator' })}</span>}
              </label>
            );
          })}
        </fieldset>
        <ScopedButton scope="admin" type="submit" disabled={create.isPending || scopes.length === 0}>
          {t('keys.create')}
        </ScopedButton>
      </form>
      {create.error && <ErrorNote error={create.error} />}
      {create.data && (
        <div className="banner banner-info" role="status">
          <p>
            <strong>{t('keys.shownOnce')}</strong>
          </p>
          <code className="secret" data-testid="new-key">
            {create.data.key}
          </code>
        </div>
      )}
      {can('admin') && (
        <QueryView query={list} empty={t('keys.none')} isEmpty={(data) => data.length === 0}>
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('keys.name')}</th>
                  <th scope="col">{t('keys.prefix')}</th>
                  <th scope="col">{t('keys.scopes')}</th>
                  <th scope="col">{t('keys.created')}</th>
                  <th scope="col">{t('keys.lastUsed')}</th>
                  <th scope="col">{t('keys.state')}</th>
                </tr>
              </thead>
              <tbody>
                {data.map((key) => (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td>
                      <code>{key.prefix}</code>
                    </td>
                    <td>{key.scopes.join(', ')}</td>
                    <td>
                      <Time at={key.createdAt} />
                    </td>
                    <td>
                      <Time at={key.lastUsedAt} />
                    </td>
                    <td>
                      {key.revokedAt === undefined ? (
                        <ScopedButton
                          scope={key.scopes.includes('operator') ? 'operator' : 'admin'}
                          onClick={() => setRevoking({ id: key.id, name: key.name })}
                          aria-label={`${t('keys.revoke')} ${key.name}`}
                        >
                          {t('keys.revoke')}
                        </ScopedButton>
                      ) : (
                        <span>
                          <span aria-hidden="true">⊘ </span>
                          {t('keys.revoked')} <Time at={key.revokedAt} />
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </QueryView>
      )}
      {revoking && (
        <Dialog
          title={t('keys.revokeTitle', { name: revoking.name })}
          confirmLabel={t('keys.revoke')}
          danger
          busy={revoke.isPending}
          onClose={() => setRevoking(undefined)}
          onConfirm={() => revoke.mutate({ id: revoking.id }, { onSettled: () => setRevoking(undefined) })}
        >
          <p>{t('keys.revokeText')}</p>
        </Dialog>
      )}
    </>
  );
}
