import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router';
import { Dialog } from '../components/Dialog.js';
import { ScopedButton, ScopeNote } from '../components/ScopedButton.js';
import { ErrorNote, QueryView } from '../components/states.js';
import { Time } from '../format.js';
import { useLang } from '../i18n.js';
import { useSession } from '../session.js';
import { useTRPC } from '../trpc.js';

export function SuppressionsPage() {
  const { t } = useLang();
  const trpc = useTRPC();
  const { can } = useSession();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const address = params.get('address') ?? '';
  const [search, setSearch] = useState(address);
  const [adding, setAdding] = useState({ address: '', reason: '' });
  const [removing, setRemoving] = useState<string | undefined>();
  const list = useQuery(trpc.suppressions.list.queryOptions(address ? { address, limit: 200 } : { limit: 200 }, { enabled: can('admin') }));
  const done = { onSuccess: () => queryClient.invalidateQueries() };
  const add = useMutation(trpc.suppressions.add.mutationOptions(done));
  const remove = useMutation(trpc.suppressions.remove.mutationOptions(done));

  function submitAdd(event: FormEvent) {
    event.preventDefault();
    add.mutate(adding, { onSuccess: () => setAdding({ address: '', reason: '' }) });
  }

  return (
    <>
      <h1>{t('nav.suppressions')}</h1>
      {!can('admin') && <ScopeNote scope="admin" />}
      <search>
        <form
          className="search"
          onSubmit={(event) => {
            event.preventDefault();
            setParams(search.trim() ? { address: search.trim() } : {});
          }}
        >
          <label htmlFor="suppression-search">{t('suppressions.search')}</label>
          <input id="suppression-search" type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
          <button type="submit">{t('messages.searchButton')}</button>
        </form>
      </search>
      <form className="inline-form" onSubmit={submitAdd}>
        <label>
          {t('suppressions.address')}
          <input type="email" required value={adding.address} onChange={(event) => setAdding({ ...adding, address: event.target.value })} />
        </label>
        <label>
          {t('suppressions.reason')}
          <input required value={adding.reason} onChange={(event) => setAdding({ ...adding, reason: event.target.value })} />
        </label>
        <ScopedButton scope="admin" type="submit" disabled={add.isPending}>
          {t('suppressions.add')}
        </ScopedButton>
      </form>
      {add.error && <ErrorNote error={add.error} />}
      {can('admin') && (
        <QueryView query={list} empty={t('suppressions.none')} isEmpty={(data) => data.items.length === 0}>
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('suppressions.address')}</th>
                  <th scope="col">{t('suppressions.reason')}</th>
                  <th scope="col">{t('suppressions.source')}</th>
                  <th scope="col">{t('suppressions.added')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('suppressions.remove')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{entry.address}</td>
                    <td>{entry.reason}</td>
                    <td>
                      {entry.source}
                      {entry.eventId && (
                        <span className="muted">
                          {' '}
                          ({t('suppressions.event')} {entry.eventId})
                        </span>
                      )}
                    </td>
                    <td>
                      <Time at={entry.createdAt} />
                    </td>
                    <td>
                      <ScopedButton
                        scope="admin"
                        onClick={() => setRemoving(entry.address)}
                        aria-label={`${t('suppressions.remove')} ${entry.address}`}
                      >
                        {t('suppressions.remove')}
                      </ScopedButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </QueryView>
      )}
      {removing && (
        <Dialog
          title={t('suppressions.removeTitle', { address: removing })}
          confirmLabel={t('suppressions.remove')}
          danger
          busy={remove.isPending}
          onClose={() => setRemoving(undefined)}
          onConfirm={() => remove.mutate({ address: removing }, { onSettled: () => setRemoving(undefined) })}
        >
          <p>{t('suppressions.removeText')}</p>
        </Dialog>
      )}
    </>
  );
}
