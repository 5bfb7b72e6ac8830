import { useEffect, useState } from 'react';
import { A, ApiError, api, errorText } from '../api';
import { PageHeader } from '../components/layout';
import { ConfirmForm, Dialog } from '../components/dialog';
import { Empty, ErrorBox, Panel, Skeleton, TableWrap } from '../components/ui';
import { dateTime, num, pct } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { isAdmin, useUser } from '../session';
import { href } from '../router';
import type { DryRun, PolicyVersion } from '../types';

export function PolicyPage() {
  const ref = usePageTitle('Policy');
  const user = useUser();
  const admin = isAdmin(user);
  const active = useApi<{ version: number; text: string | null }>(`${A}/policy`);
  const versions = useApi<{ versions: PolicyVersion[] }>(`${A}/policy/versions`);
  const [text, setText] = useState('');
  const [dirty, setDirty] = useState(false);
  const [result, setResult] = useState<DryRun | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [rollback, setRollback] = useState<number | null>(null);
  const [applying, setApplying] = useState(false);
  useEffect(() => {
    if (active.data && !dirty) setText(active.data.text ?? '');
  }, [active.data, dirty]);

  const dryRun = async () => {
    setRunning(true);
    setRunError(null);
    setResult(null);
    try {
      setResult(await api.post<DryRun>(`${A}/policy/dry-run`, { text, hours: 24 }));
    } catch (e) {
      setRunError(e instanceof ApiError && e.status === 404 ? 'This server has no dry-run route yet; validate with `warden policy validate FILE`.' : errorText(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <>
      <PageHeader title="Policy" titleRef={ref} kicker="Decisions per request">
        <p className="page-sub">
          The active policy decides every request. Edit a copy below and dry-run it over the last day of traffic to see what would change.
        </p>
      </PageHeader>
      <div className="grid-2-1">
        <div className="stack">
          <Panel
            title={active.data ? `Editor — based on version ${active.data.version}` : 'Editor'}
            id="editor"
            actions={
              dirty && (
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  onClick={() => {
                    setDirty(false);
                    setText(active.data?.text ?? '');
                    setResult(null);
                  }}
                >
                  Discard changes
                </button>
              )
            }
          >
            {active.error ? (
              <ErrorBox error={active.error} onRetry={active.reload} />
            ) : !active.data ? (
              <Skeleton rows={10} />
            ) : (
              <>
                <label htmlFor="policy-text" className="sr-only">
                  Policy YAML
                </label>
                <textarea
                  id="policy-text"
                  className="code-editor"
                  spellCheck={false}
                  rows={22}
                  value={text}
                  readOnly={!admin}
                  aria-describedby="policy-help"
                  onChange={(e) => {
                    setText(e.target.value);
                    setDirty(true);
                    setResult(null);
                  }}
                />
                <div className="editor-foot">
                  <p id="policy-help" className="muted small">
                    {admin
                      ? 'Dry-run your edit over the last day of traffic; once it is valid you can apply it as a new version. The policy file on disk is not rewritten: its next change is loaded as usual.'
                      : 'Read only: editing and dry runs need the admin role.'}
                  </p>
                  {admin && (
                    <button type="button" className="btn btn-primary" onClick={dryRun} disabled={running || !text.trim()}>
                      {running ? 'Running…' : 'Dry run over the last 24 h'}
                    </button>
                  )}
                </div>
              </>
            )}
          </Panel>
        </div>
        <div className="stack">
          {(result || runError) && (
            <Panel title="Dry run" id="dry-run">
              {runError && <ErrorBox error={runError} />}
              {result && !result.valid && (
                <div role="alert">
                  <p className="form-error">The policy is not valid: {result.issues.length} problem(s).</p>
                  <ul className="issues">
                    {result.issues.map((i, n) => (
                      <li key={n}>
                        <span className="mono small">
                          {i.line != null ? `line ${i.line}` : ''}
                          {i.path ? ` ${i.path}` : ''}
                          {i.rule ? ` rule ${i.rule}` : ''}
                        </span>{' '}
                        {i.message}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              {result && result.valid && <DryRunReport r={result.report} />}
              {result && result.valid && admin && dirty && (
                <div className="dialog-foot">
                  <button type="button" className="btn btn-danger" onClick={() => setApplying(true)}>
                    Apply as a new version…
                  </button>
                </div>
              )}
            </Panel>
          )}
        <Panel title="Versions" id="versions">
          {versions.error ? (
            <ErrorBox error={versions.error} onRetry={versions.reload} />
          ) : !versions.data ? (
            <Skeleton rows={4} />
          ) : versions.data.versions.length === 0 ? (
            <Empty title="No stored version." />
          ) : (
            <ul className="versions">
              {[...versions.data.versions].sort((a, b) => b.version - a.version).map((v) => (
                <li key={v.version} className={v.active ? 'active' : ''}>
                  <div className="version-line">
                    <strong className="num">v{v.version}</strong>
                    {v.active && <span className="badge ok-badge">active</span>}
                    {admin && !v.active && (
                      <button type="button" className="btn btn-small btn-ghost push" onClick={() => setRollback(v.version)}>
                        Activate…
                      </button>
                    )}
                  </div>
                  <div className="muted small">
                    {dateTime(v.created_at)} · {v.source}
                  </div>
                  <div className="muted small mono">sha256 {v.sha256.slice(0, 12)}…</div>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        </div>
      </div>
      <Dialog open={applying} title="Apply the edited policy" onClose={() => setApplying(false)}>
        {applying && (
          <ApplyForm
            text={text}
            onCancel={() => setApplying(false)}
            onDone={() => {
              setApplying(false);
              setDirty(false);
              setResult(null);
              active.reload();
              versions.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={rollback !== null} title={`Activate policy version ${rollback ?? ''}`} onClose={() => setRollback(null)}>
        {rollback !== null && (
          <RollbackForm
            version={rollback}
            onCancel={() => setRollback(null)}
            onDone={() => {
              setRollback(null);
              setDirty(false);
              active.reload();
              versions.reload();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function ApplyForm({ text, onDone, onCancel }: { text: string; onDone: () => void; onCancel: () => void }) {
  const [reason, setReason] = useState('');
  return (
    <ConfirmForm run={() => api.post(`${A}/policy`, { text, reason })} onDone={onDone} onCancel={onCancel} submit="Apply" busyLabel="Applying…" tone="danger" disabled={!reason.trim()}>
      <p>Every gateway decides with the new version from its next request. The change and your reason are recorded in the audit log.</p>
      <div className="field">
        <label htmlFor="apply-reason">Reason (required, kept in the audit log)</label>
        <textarea id="apply-reason" rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} placeholder="What the change does and why" />
      </div>
    </ConfirmForm>
  );
}

function RollbackForm({ version, onDone, onCancel }: { version: number; onDone: () => void; onCancel: () => void }) {
  return (
    <ConfirmForm run={() => api.post(`${A}/policy/rollback`, { version })} onDone={onDone} onCancel={onCancel} submit={`Activate v${version}`} busyLabel="Activating…" tone="danger">
      <p>Every gateway decides with version {version} from its next request. The change is recorded in the audit log.</p>
    </ConfirmForm>
  );
}

function DryRunReport({ r }: { r: Extract<DryRun, { valid: true }>['report'] }) {
  return (
    <>
      <p className="dry-summary">
        Over <strong className="num">{num(r.events)}</strong> requests of the last day, <strong className="num">{num(r.changed)}</strong> ({pct(r.events ? r.changed / r.events : 0, 1)}) would be decided differently.
      </p>
      {r.by_rule.length > 0 && (
        <TableWrap label="Dry run by rule">
          <table className="table dense">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col" className="n">
                  Before
                </th>
                <th scope="col" className="n">
                  After
                </th>
                <th scope="col" className="n">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {r.by_rule.map((b) => (
                <tr key={b.rule}>
                  <td className="mono small">{b.rule}</td>
                  <td className="n num">{num(b.before)}</td>
                  <td className="n num">{num(b.after)}</td>
                  <td className={`n num ${b.after > b.before ? 'up' : b.after < b.before ? 'down' : ''}`}>{b.after - b.before > 0 ? `+${num(b.after - b.before)}` : num(b.after - b.before)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {r.samples.length > 0 && (
        <>
          <h3 className="subhead">Sample changed requests</h3>
          <TableWrap label="Sample changed requests">
            <table className="table dense">
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {r.samples.slice(0, 10).map((s) => (
                  <tr key={s.request_id} title={s.request_id}>
                    <td className="mono small">
                      <a href={href(`/accounts/${encodeURIComponent(s.account_id)}`)}>{s.account_id}</a>
                    </td>
                    <td>{s.before}</td>
                    <td>
                      <strong>{s.after}</strong>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {r.samples.length > 10 && <p className="muted small table-note">{r.samples.length - 10} more samples not shown.</p>}
        </>
      )}
    </>
  );
}
