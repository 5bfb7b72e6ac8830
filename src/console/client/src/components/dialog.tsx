/**
 * A modal on the native <dialog>: showModal() makes the rest of the page inert (focus stays
 * inside), Escape closes it (the `cancel` event), and focus returns to the opener.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { errorText } from '../api';

export function Dialog({ open, title, onClose, children, wide }: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      const first = d.querySelector<HTMLElement>('[autofocus], select, textarea, input, button:not(.dialog-close)');
      first?.focus();
    } else if (!open && d.open) {
      d.close();
      (opener.current as HTMLElement | null)?.focus?.();
    }
  }, [open]);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, [onClose]);
  return (
    <dialog ref={ref} className={`dialog ${wide ? 'dialog-wide' : ''}`} aria-labelledby="dialog-title">
      {open && (
        <>
          <header className="dialog-head">
            <h2 id="dialog-title">{title}</h2>
            <button type="button" className="dialog-close" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          <div className="dialog-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

/**
 * The body of a confirmation dialog: its text, the error a failed `run` gave (the dialog stays
 * open to retry), Cancel, and a submit button disabled while `run` is in flight.
 */
export function ConfirmForm({
  run,
  onDone,
  onCancel,
  submit,
  busyLabel,
  tone = 'primary',
  disabled = false,
  children,
}: {
  run: () => Promise<unknown>;
  onDone: () => void;
  onCancel: () => void;
  submit: string;
  busyLabel: string;
  tone?: 'primary' | 'danger';
  disabled?: boolean;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await run();
          onDone();
        } catch (err) {
          setError(errorText(err));
          setBusy(false);
        }
      }}
    >
      {children}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-foot">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={`btn btn-${tone}`} disabled={busy || disabled}>
          {busy ? busyLabel : submit}
        </button>
      </div>
    </form>
  );
}
