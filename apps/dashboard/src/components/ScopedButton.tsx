import { type ButtonHTMLAttributes, useId } from 'react';
import { useLang } from '../i18n.js';
import { type Scope, useSession } from '../session.js';

/** A button for an action the key may lack: disabled, it says which scope is missing. */
export function ScopedButton({ scope, children, disabled, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { readonly scope: Scope }) {
  const { can } = useSession();
  const { t } = useLang();
  const id = useId();
  const allowed = can(scope);
  return (
    <span className="scoped">
      <button type="button" {...rest} disabled={!allowed || disabled} aria-describedby={allowed ? undefined : id}>
        {children}
      </button>
      {!allowed && (
        <span id={id} className="needs-scope">
          <span aria-hidden="true">⊘ </span>
          {t('scope.missing', { scope })}
        </span>
      )}
    </span>
  );
}

/** In place of a page or section the key may not read: which scope it needs, not an error. */
export function ScopeNote({ scope, what }: { readonly scope: Scope; readonly what?: string }) {
  const { t } = useLang();
  return (
    <p className="banner banner-info scope-note" role="note">
      <span aria-hidden="true">⊘ </span>
      {what === undefined ? t('scope.missing', { scope }) : t('scope.missingFor', { what, scope })}
    </p>
  );
}
