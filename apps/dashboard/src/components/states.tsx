import type { ReactNode } from 'react';
import { useLang } from '../i18n.js';
import { apiCodeOf, isConnectionError } from '../trpc.js';

export function Loading() {
  const { t } = useLang();
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {t('state.loading')}
    </p>
  );
}

export function Empty({ children }: { readonly children: ReactNode }) {
  return (
    <p className="empty-state">
      <span aria-hidden="true">○ </span>
      {children}
    </p>
  );
}

export function ErrorNote({ error }: { readonly error: unknown }) {
  const { t } = useLang();
  const text = isConnectionError(error)
    ? t('connection.lost')
    : apiCodeOf(error) === 'FORBIDDEN'
      ? `${t('state.forbidden')} ${error instanceof Error ? error.message : ''}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <p className="error" role="alert">
      <span aria-hidden="true">✖ </span>
      {text}
    </p>
  );
}

/**
 * A query's three states besides data, in one place so every page shows them the same way. Data
 * already shown stays while the connection is lost: the page's banner says so once.
 */
export function QueryView<T>({
  query,
  empty,
  isEmpty,
  children,
}: {
  readonly query: { readonly data: T | undefined; readonly error: unknown; readonly isPending: boolean };
  readonly empty?: ReactNode;
  readonly isEmpty?: (data: T) => boolean;
  readonly children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) return query.error ? <ErrorNote error={query.error} /> : <Loading />;
  if (empty !== undefined && isEmpty?.(query.data)) return <Empty>{empty}</Empty>;
  return (
    <>
      {query.error && !isConnectionError(query.error) ? <ErrorNote error={query.error} /> : null}
      {children(query.data)}
    </>
  );
}
