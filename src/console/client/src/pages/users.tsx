/**
 * Console users (admins only; the server enforces it too): the list, creating a user with a typed
 * or generated password (a generated one is shown once), and deleting a user after confirmation.
 * An admin cannot delete themself: the button is disabled and says why.
 */
import { useState } from 'react';
import { A, api, errorText } from '../api';
import { ConfirmForm, Dialog } from '../components/dialog';
import { PageHeader } from '../components/layout';
import { SecretOnce, randomPassword } from '../components/secret';
import { Empty, ErrorBox, Panel, Skeleton, TableWrap } from '../components/ui';
import { dateTime } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { isAdmin, useUser } from '../session';
import type { Role } from '../types';

interface ConsoleUser {
  username: string;
  role: Role;
  created_at: string;
  disabled?: boolean;
}

const ROLES: { role: Role; label: string }[] = [
  { role: 'viewer', label: 'Viewer — reads cases, accounts and policy' },
  { role: 'analyst', label: 'Analyst — also acts on cases' },
  { role: 'admin', label: 'Admin — also policy, keys and users' },
];
const MIN_PASSWORD = 12;

export function UsersPage() {
  const me = useUser();
  const ref = usePageTitle('Users');
  const { data, error, loading, reload } = useApi<{ users: ConsoleUser[] }>(isAdmin(me) ? `${A}/users` : null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [created, setCreated] = useState<{ username: string; password?: string } | null>(null);
  const rows = [...(data?.users ?? [])].sort((a, b) => a.username.localeCompare(b.username));
  return (
    <>
      <PageHeader
        title="Users"
        titleRef={ref}
        kicker="Administration"
        actions={
          isAdmin(me) ? (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              New user…
            </button>
          ) : undefined
        }
      >
        <p className="page-sub">People who can sign in to this console, and their role.</p>
      </PageHeader>
      {!isAdmin(me) ? (
        <ErrorBox error="Only admins manage console users." />
      ) : (
        <>
          {created && !created.password && (
            <p className="notice" role="status">
              User <strong>{created.username}</strong> created.
            </p>
          )}
          <Panel>
            {error ? (
              <ErrorBox error={error} onRetry={reload} />
            ) : loading && !data ? (
              <Skeleton rows={4} />
            ) : rows.length === 0 ? (
              <Empty title="No console users yet.">Create one with “New user…”.</Empty>
            ) : (
              <TableWrap label="Console users">
                <table className="table">
                  <caption className="sr-only">Console users</caption>
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">Role</th>
                      <th scope="col">Created</th>
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((u) => {
                      const self = u.username === me.username;
                      return (
                        <tr key={u.username}>
                          <td className="cell-main">
                            <span className="mono">{u.username}</span> {self && <span className="badge muted-badge">you</span>} {u.disabled && <span className="badge muted-badge">disabled</span>}
                          </td>
                          <td>
                            <span className={`role role-${u.role}`}>{u.role}</span>
                          </td>
                          <td className="num small">{dateTime(u.created_at)}</td>
                          <td>
                            <button
                              type="button"
                              className="btn btn-small"
                              disabled={self}
                              aria-label={`Delete ${u.username}`}
                              aria-describedby={self ? 'self-delete-why' : undefined}
                              title={self ? 'You cannot delete yourself' : undefined}
                              onClick={() => setDeleting(u.username)}
                            >
                              Delete
                            </button>
                            {self && (
                              <div id="self-delete-why" className="small muted">
                                You cannot delete yourself; another admin can.
                              </div>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Panel>
        </>
      )}
      <Dialog open={creating} title="New console user" onClose={() => setCreating(false)}>
        {creating && (
          <CreateUserForm
            onCancel={() => setCreating(false)}
            onDone={(username, generated) => {
              setCreating(false);
              setCreated(generated ? { username, password: generated } : { username });
              reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={!!created?.password} title={`Password for ${created?.username ?? ''}`} onClose={() => setCreated(null)}>
        {created?.password && (
          <>
            <SecretOnce id="new-user-password" label="Generated password" value={created.password} warning="Give it to the person now over a safe channel; it cannot be shown again. To change it, delete and re-create the user." />
            <div className="dialog-foot">
              <button type="button" className="btn btn-primary" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </>
        )}
      </Dialog>
      <Dialog open={deleting !== null} title="Delete console user" onClose={() => setDeleting(null)}>
        {deleting !== null && (
          <DeleteUserForm
            username={deleting}
            onCancel={() => setDeleting(null)}
            onDone={() => {
              setDeleting(null);
              setCreated(null);
              reload();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function CreateUserForm({ onDone, onCancel }: { onDone: (username: string, generated?: string) => void; onCancel: () => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [generated, setGenerated] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const short = password.length > 0 && password.length < MIN_PASSWORD;
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          const u = await api.post<ConsoleUser>(`${A}/users`, { username: username.trim(), role, password });
          onDone(u.username, generated ? password : undefined);
        } catch (err) {
          setError(errorText(err));
          setBusy(false);
        }
      }}
    >
      <div className="field">
        <label htmlFor="user-name">Username</label>
        <input id="user-name" required autoComplete="off" spellCheck={false} value={username} onChange={(e) => setUsername(e.target.value)} aria-describedby="user-name-hint" />
        <span id="user-name-hint" className="small muted">
          Lower-case letters, digits and . _ @ - (at most 64).
        </span>
      </div>
      <div className="field">
        <label htmlFor="user-role">Role</label>
        <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r.role} value={r.role}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="user-password">Password</label>
        <div className="secret-row">
          <input
            id="user-password"
            type={generated ? 'text' : 'password'}
            className={generated ? 'mono' : undefined}
            required
            minLength={MIN_PASSWORD}
            autoComplete="new-password"
            value={password}
            aria-invalid={short || undefined}
            aria-describedby="user-password-hint"
            onChange={(e) => {
              setPassword(e.target.value);
              setGenerated(false);
            }}
          />
          <button
            type="button"
            className="btn"
            onClick={() => {
              setPassword(randomPassword());
              setGenerated(true);
            }}
          >
            Generate
          </button>
        </div>
        <span id="user-password-hint" className="small muted">
          At least {MIN_PASSWORD} characters{password ? ` (${password.length} now)` : ''}. A generated password is shown once more after the user is created.
        </span>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-foot">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy || !username.trim() || password.length < MIN_PASSWORD}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
      </div>
    </form>
  );
}

function DeleteUserForm({ username, onDone, onCancel }: { username: string; onDone: () => void; onCancel: () => void }) {
  return (
    <ConfirmForm run={() => api.del(`${A}/users/${encodeURIComponent(username)}`)} onDone={onDone} onCancel={onCancel} submit={`Delete ${username}`} busyLabel="Deleting…" tone="danger">
      <p>
        <strong className="mono">{username}</strong> can no longer sign in. The deletion is recorded in the audit log.
      </p>
    </ConfirmForm>
  );
}
