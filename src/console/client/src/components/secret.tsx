/**
 * A secret (a new API key, a generated password) shown once: read-only, selectable, with a copy
 * button and a warning that it will not be shown again. The caller drops it from state on close.
 */
import { useState } from 'react';

export function SecretOnce({ id, label, value, warning }: { id: string; label: string; value: string; warning: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  return (
    <div className="secret-once">
      <p className="confirm-line" role="note">
        <strong>Shown once.</strong> {warning}
      </p>
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <div className="secret-row">
          <input id={id} className="mono" readOnly value={value} spellCheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
          <button
            type="button"
            className="btn"
            onClick={async () => {
              try {
                await navigator.clipboard.writeText(value);
                setCopied('yes');
              } catch {
                setCopied('no');
              }
            }}
          >
            Copy
          </button>
        </div>
        <span className="small muted" role="status" aria-live="polite">
          {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'no' ? 'Copying is blocked here: select the text and copy it yourself.' : ''}
        </span>
      </div>
    </div>
  );
}

/** A random password of 20 characters (about 118 bits) from the browser's CSPRNG. */
export function randomPassword(length = 20): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_';
  const out: string[] = [];
  const buf = new Uint8Array(1);
  while (out.length < length) {
    crypto.getRandomValues(buf);
    const b = buf[0]!;
    if (b < 256 - (256 % alphabet.length)) out.push(alphabet[b % alphabet.length]!);
  }
  return out.join('');
}
