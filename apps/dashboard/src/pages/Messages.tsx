import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Empty, ErrorNote, Loading } from '../components/states.js';
import { Time } from '../format.js';
import { useLang } from '../i18n.js';
import { apiCodeOf, useTRPC, useTRPCClient } from '../trpc.js';

const PAGE = 100;
const ROW_PX = 44;

export function MessagesPage() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { t } = useLang();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  // By hand rather than infiniteQueryOptions: that adds a `direction` field the API's strict input refuses.
  const pages = useInfiniteQuery({
    queryKey: [...trpc.mail.search.queryKey({ q }), 'pages'],
    queryFn: ({ pageParam }) => client.mail.search.query({ q, limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
    retry: false,
  });
  const badQuery = apiCodeOf(pages.error) === 'INVALID_INPUT';
  const rows = pages.data?.pages.flatMap((page) => page.items) ?? [];

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 10,
  });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= rows.length - 20 && pages.hasNextPage && !pages.isFetchingNextPage) void pages.fetchNextPage();
  }, [last, rows.length, pages]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(draft.trim() === '' ? {} : { q: draft.trim() });
  }

  return (
    <>
      <h1>{t('nav.messages')}</h1>
      <search>
        <form className="search" onSubmit={submit}>
          <label htmlFor="q" className="visually-hidden">
            {t('messages.search')}
          </label>
          <input
            id="q"
            type="search"
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            placeholder="status:dead provider:sendgrid to:guest@example.org"
            aria-describedby="q-help"
          />
          <button type="submit">{t('messages.searchButton')}</button>
        </form>
      </search>
      <p id="q-help" className="muted">
        {t('messages.help')}
      </p>
      {pages.error &&
        (badQuery ? (
          <p className="error" role="alert">
            <span aria-hidden="true">✖ </span>
            {pages.error.message}
          </p>
        ) : (
          <ErrorNote error={pages.error} />
        ))}
      {pages.isPending && !pages.error && <Loading />}
      {pages.data && rows.length === 0 && <Empty>{t('messages.none')}</Empty>}
      {rows.length > 0 && (
        <div className="table-head message-row" aria-hidden="true">
          <span>{t('messages.status')}</span>
          <span>{t('messages.created')}</span>
          <span>{t('messages.to')}</span>
          <span>{t('messages.subject')}</span>
          <span>{t('messages.provider')}</span>
        </div>
      )}
      <div ref={scroller} className="virtual-list" hidden={rows.length === 0}>
        <ul aria-label={t('messages.results')} style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            return (
              <li key={row.id} className="message-row" style={{ transform: `translateY(${item.start}px)`, height: ROW_PX }}>
                <span className={`status status-${row.status}`}>{row.status}</span>
                <span>
                  <Time at={row.createdAt} />
                </span>
                <span className="ellipsis">{row.to.map((address) => address.email).join(', ')}</span>
                <Link className="ellipsis" to={`/messages/${encodeURIComponent(row.id)}`}>
                  {row.subject || t('messages.noSubject')}
                </Link>
                <span>
                  {row.provider ?? '—'}
                  {row.lastErrorCode && <code className="muted"> {row.lastErrorCode}</code>}
                </span>
              </li>
            );
          })}
        </ul>
      </div>
      {rows.length > 0 && (
        <p className="muted" aria-live="polite">
          {pages.hasNextPage ? t('messages.shownMore', { n: rows.length }) : t('messages.shownAll', { n: rows.length })}
        </p>
      )}
    </>
  );
}
