import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, errorText, signIn } from '../api';
import type { Session } from '../types';

export function SignIn({ notice, onSignedIn }: { notice?: string | undefined; onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    document.title = 'Sign in · Warden';
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(username.trim(), password));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Wrong username or password. Check both and try again.');
      else if (err instanceof ApiError && err.status === 429) setError('Too many sign-in attempts. Wait a few minutes before trying again.');
      else setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div className="signin-page">
      <main className="signin" id="main">
        <div className="signin-brand">
          <svg width="36" height="36" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#1f3a5f" />
            <path d="M16 5l9 4v6c0 6-4 10-9 12-5-2-9-6-9-12V9z" fill="none" stroke="#fff" strokeWidth="2.4" strokeLinejoin="round" />
          </svg>
          <div>
            <div className="signin-name">Warden</div>
            <div className="signin-tag">Integrity console</div>
          </div>
        </div>
        <h1>Sign in</h1>
        <p className="muted">Use the console account your Warden admin gave you.</p>
        {notice && !error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {error && (
          <p className="form-error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <form onSubmit={submit}>
          <div className="field">
            <label htmlFor="username">Username</label>
            <input id="username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} aria-describedby={error ? 'signin-error' : undefined} autoFocus />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy || !username || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="signin-foot muted small">Sessions end after 12 hours without activity. Every action you take is recorded under your name in the signed audit log.</p>
      </main>
    </div>
  );
}
