import { type ReactNode, useEffect, useRef } from 'react';
import { useLang } from '../i18n.js';

/** A modal confirmation: focus moves into it, Escape closes it, and nothing happens until the confirm button. */
export function Dialog({
  title,
  children,
  confirmLabel,
  confirmDisabled,
  busy,
  onConfirm,
  onClose,
  danger,
}: {
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly confirmDisabled?: boolean;
  readonly busy?: boolean;
  readonly onConfirm: () => void;
  readonly onClose: () => void;
  readonly danger?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useLang();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          onConfirm();
        }}
      >
        <h2 id="dialog-title">{title}</h2>
        {children}
        <div className="actions">
          <button type="button" onClick={onClose}>
            {t('action.cancel')}
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={confirmDisabled || busy}>
            {busy ? t('state.working') : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
