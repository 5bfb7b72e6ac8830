import { lazy, Suspense, useMemo, useState, type FormEvent } from 'react';
import { A, api, errorText } from '../api';
import { TimeChart } from '../components/chart';
import { Dialog } from '../components/dialog';
import { PageHeader } from '../components/layout';
import { DecisionBadge, Empty, ErrorBox, KeyValues, Meter, Mono, Panel, SeverityBadge, Skeleton, StatusBadge, TableWrap } from '../components/ui';
import { ago, dateTime, fillSeries, pct, score, words } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href } from '../router';
import { canAct, useUser } from '../session';
import { ACTION_KINDS, STATUSES, VERDICTS, type ActionKind, type Alert, type Case, type CaseGraph, type CaseTimeline, type EnforcementAction } from '../types';

// Cytoscape is most of the bundle's weight: loaded with the first case page, not at sign-in.
const LinkageGraph = lazy(() => import('../components/graph').then((m) => ({ default: m.LinkageGraph })));

const ACTION_HELP: Record<ActionKind, string> = {
  block: 'Refuse every request (403) until reversed or expired.',
  throttle: 'Hold the subject to the policy’s throttle limits.',
  step_up: 'Require stronger verification before more use.',
  degrade: 'Serve with a capped output size.',
  monitor: 'Allow, and mark requests for closer review.',
};

export function CasePage({ caseId }: { caseId: string }) {
  const user = useUser();
  const base = `${A}/cases/${encodeURIComponent(caseId)}`;
  const c = useApi<Case>(base);
  const graph = useApi<CaseGraph>(`${base}/graph`);
  const timelineApi = useApi<CaseTimeline>(`${base}/timeline`);
  const filled = useMemo(
    () => (timelineApi.data ? { ...timelineApi.data, buckets: fillSeries(timelineApi.data.buckets, 3600_000, 24, (at) => ({ at, requests: 0, refused: 0 })) } : undefined),
    [timelineApi.data],
  );
  const timeline = { ...timelineApi, data: filled };
  const actions = useApi<{ actions: EnforcementAction[] }>(`${A}/actions?active=false`);
  const ref = usePageTitle(c.data ? `${c.data.title}` : 'Case');
  const [dialog, setDialog] = useState<null | { kind: 'act' } | { kind: 'reverse'; action: EnforcementAction } | { kind: 'dispose'; alert: Alert } | { kind: 'status' } | { kind: 'assign' }>(null);
  const reloadAll = () => {
    c.reload();
    actions.reload();
    timeline.reload();
  };
  const close = () => setDialog(null);

  if (c.error && !c.data) {
    return (
      <>
        <PageHeader title="Case" titleRef={ref} kicker={<a href="#/cases">Cases</a>} />
        <ErrorBox error={c.status === 404 ? `No case “${caseId}”. It may have been merged or the link is wrong.` : c.error} onRetry={c.reload} />
      </>
    );
  }
  if (!c.data) {
    return (
      <>
        <PageHeader title="Case" titleRef={ref} kicker={<a href="#/cases">Cases</a>} />
        <Skeleton rows={8} />
      </>
    );
  }
  const kase = c.data;
  const act = canAct(user);
  const caseActions = (actions.data?.actions ?? []).filter((a) => kase.actions.includes(a.action_id)).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const inForce = caseActions.filter((a) => !a.reversed_at && (!a.expires_at || Date.parse(a.expires_at) > Date.now()));

  return (
    <>
      <PageHeader
        titleRef={ref}
        kicker={
          <>
            <a href="#/cases">Cases</a> / <Mono>{kase.case_id}</Mono>
          </>
        }
        title={kase.title}
        actions={
          <>
            <a className="btn" href={`${base}/report?format=html`} target="_blank" rel="noopener">
              Report (HTML)
            </a>
            <a className="btn" href={`${base}/report?format=json`} download={`${kase.case_id}.json`}>
              JSON
            </a>
            {act && (
              <button type="button" className="btn btn-danger" onClick={() => setDialog({ kind: 'act' })}>
                Take action…
              </button>
            )}
          </>
        }
      >
        <div className="case-badges">
          <SeverityBadge severity={kase.severity} />
          <StatusBadge status={kase.status} />
          {inForce.map((a) => (
            <DecisionBadge key={a.action_id} decision={a.decision} label={`${words(a.decision)} in force on ${a.subject.kind}`} />
          ))}
        </div>
      </PageHeader>

      <div className="facts">
        <div className="fact">
          <span className="fact-label">Entity</span>
          <span className="fact-value">{kase.entity ?? <span className="muted">not attributed</span>}</span>
        </div>
        <div className="fact">
          <span className="fact-label">Cluster</span>
          <span className="fact-value mono">{kase.clusters.join(', ') || <span className="muted">—</span>}</span>
        </div>
        <div className="fact">
          <span className="fact-label">Accounts</span>
          <span className="fact-value num">{kase.accounts.length}</span>
        </div>
        <div className="fact">
          <span className="fact-label">Score</span>
          <span className="fact-value num score-cell">
            <Meter value={kase.score} label={`Score ${score(kase.score)}`} /> {score(kase.score)}
          </span>
        </div>
        <div className="fact">
          <span className="fact-label">Assignee</span>
          <span className="fact-value">
            {kase.assignee ?? <span className="muted">unassigned</span>}
            {act && (
              <button type="button" className="link-btn" onClick={() => setDialog({ kind: 'assign' })}>
                change
              </button>
            )}
          </span>
        </div>
        <div className="fact">
          <span className="fact-label">Status</span>
          <span className="fact-value">
            {words(kase.status)}
            {act && (
              <button type="button" className="link-btn" onClick={() => setDialog({ kind: 'status' })}>
                change
              </button>
            )}
          </span>
        </div>
        <div className="fact">
          <span className="fact-label">Opened</span>
          <span className="fact-value num" title={kase.created_at}>
            {dateTime(kase.created_at)}
          </span>
        </div>
      </div>

      <div className="case-grid">
        <div className="case-main">
          <Panel title="Linkage graph" id="graph">
            {graph.error ? <ErrorBox error={graph.error} onRetry={graph.reload} /> : !graph.data ? <Skeleton rows={6} /> : graph.data.nodes.length === 0 ? <Empty title="No linkage to draw.">The alerts carry no attribute shared by two or more accounts.</Empty> : <Suspense fallback={<Skeleton rows={6} />}>
                <LinkageGraph graph={graph.data} />
              </Suspense>}
          </Panel>
          <Panel title="Activity" id="activity">
            {timeline.error ? (
              <ErrorBox error={timeline.error} onRetry={timeline.reload} />
            ) : !timeline.data ? (
              <Skeleton rows={4} />
            ) : timeline.data.buckets.length === 0 ? (
              <Empty title="No requests recorded for these accounts." />
            ) : (
              <TimeChart
                label="Requests per hour across the case's accounts"
                times={timeline.data.buckets.map((b) => Date.parse(b.at) / 1000)}
                series={[
                  { label: 'Requests', values: timeline.data.buckets.map((b) => b.requests), color: '#3b6fb6', bars: true },
                  { label: 'Refused', values: timeline.data.buckets.map((b) => b.refused), color: '#d92d20', bars: true },
                ]}
                height={180}
              />
            )}
          </Panel>
          <EvidencePanel kase={kase} />
          <AlertsPanel alerts={kase.alert_records ?? []} canAct={act} onDispose={(alert) => setDialog({ kind: 'dispose', alert })} />
        </div>
        <div className="case-side">
          <Panel title="Actions" id="actions">
            {actions.error ? (
              <ErrorBox error={actions.error} onRetry={actions.reload} />
            ) : caseActions.length === 0 ? (
              <Empty title="No action taken yet.">{act ? 'Use “Take action…” to block, throttle or step up this case’s cluster, accounts or orgs.' : 'Analysts act on cases; you can read them.'}</Empty>
            ) : (
              <ul className="action-list">
                {caseActions.map((a) => (
                  <li key={a.action_id} className={a.reversed_at ? 'reversed' : ''}>
                    <div className="action-line">
                      <DecisionBadge decision={a.decision} />
                      <span className="mono small">
                        {a.subject.kind} {a.subject.id}
                      </span>
                      {a.reversed_at ? (
                        <span className="badge muted-badge">reversed</span>
                      ) : (
                        act && (
                          <button type="button" className="btn btn-small btn-ghost push" onClick={() => setDialog({ kind: 'reverse', action: a })}>
                            Reverse
                          </button>
                        )
                      )}
                    </div>
                    <div className="small">{a.reason}</div>
                    <div className="muted small">
                      {a.author} · {dateTime(a.created_at)}
                      {a.expires_at && ` · until ${dateTime(a.expires_at)}`}
                      {a.reversed_at && ` · reversed by ${a.reversed_by ?? '?'}: ${a.reversed_reason ?? ''}`}
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          <NotesPanel kase={kase} canAct={act} onAdded={c.reload} />
          <Panel title="Accounts" id="accounts">
            <ul className="chips">
              {kase.accounts.slice(0, 60).map((a) => (
                <li key={a}>
                  <a className="chip mono" href={href(`/accounts/${encodeURIComponent(a)}`)}>
                    {a}
                  </a>
                </li>
              ))}
            </ul>
            {kase.accounts.length > 60 && <p className="muted small">and {kase.accounts.length - 60} more (see the report).</p>}
          </Panel>
          <Panel title="Timeline" id="timeline">
            <ol className="timeline" tabIndex={0} aria-label="Case timeline, newest first">
              {[...(timeline.data?.entries ?? kase.timeline)].reverse().slice(0, 40).map((t, i) => (
                <li key={`${t.at}-${i}`} className={`tl-${t.kind}`}>
                  <span className="tl-dot" aria-hidden="true" />
                  <div>
                    <div className="small">{t.detail}</div>
                    <div className="muted small">
                      {words(t.kind)} · {t.by} · <span title={t.at}>{ago(t.at)}</span>
                    </div>
                  </div>
                </li>
              ))}
            </ol>
          </Panel>
        </div>
      </div>

      <Dialog open={dialog?.kind === 'act'} title="Take action on this case" onClose={close}>
        {dialog?.kind === 'act' && <ActForm kase={kase} onDone={() => { close(); reloadAll(); }} onCancel={close} />}
      </Dialog>
      <Dialog open={dialog?.kind === 'reverse'} title="Reverse action" onClose={close}>
        {dialog?.kind === 'reverse' && <ReverseForm caseId={kase.case_id} action={dialog.action} onDone={() => { close(); reloadAll(); }} onCancel={close} />}
      </Dialog>
      <Dialog open={dialog?.kind === 'dispose'} title="Alert disposition" onClose={close}>
        {dialog?.kind === 'dispose' && <DisposeForm alert={dialog.alert} onDone={() => { close(); reloadAll(); }} onCancel={close} />}
      </Dialog>
      <Dialog open={dialog?.kind === 'status'} title="Change status" onClose={close}>
        {dialog?.kind === 'status' && <StatusForm kase={kase} onDone={() => { close(); reloadAll(); }} onCancel={close} />}
      </Dialog>
      <Dialog open={dialog?.kind === 'assign'} title="Assign case" onClose={close}>
        {dialog?.kind === 'assign' && <AssignForm kase={kase} me={user.username} onDone={() => { close(); reloadAll(); }} onCancel={close} />}
      </Dialog>
    </>
  );
}

function EvidencePanel({ kase }: { kase: Case }) {
  const rows = useMemo(() => {
    const by = new Map<string, { code: string; weight: number; count: number; detail: string; top: number }>();
    for (const a of kase.alert_records ?? []) {
      if (a.disposition && a.disposition.verdict !== 'true_positive') continue;
      for (const e of a.evidence) {
        const r = by.get(e.code) ?? { code: e.code, weight: 0, count: 0, detail: e.detail, top: -1 };
        r.weight = Math.max(r.weight, e.weight);
        r.count++;
        if (e.weight > r.top) {
          r.top = e.weight;
          r.detail = e.detail;
        }
        by.set(e.code, r);
      }
    }
    return [...by.values()].sort((x, y) => y.weight - x.weight);
  }, [kase]);
  const total = rows.reduce((s, r) => s + r.weight, 0);
  return (
    <Panel title="Evidence and attribution" id="evidence">
      <p className="small attribution">
        {kase.entity ? (
          <>
            Attributed to <strong>{kase.entity}</strong>.
          </>
        ) : (
          'Not attributed to a watchlist entity.'
        )}{' '}
        {rows.length > 0 && <>Total evidence weight {total.toFixed(2)}, heaviest first (dismissed alerts excluded).</>}
      </p>
      {rows.length === 0 ? (
        <Empty title="No evidence on live alerts." />
      ) : (
        <TableWrap label="Evidence">
          <table className="table dense">
            <thead>
              <tr>
                <th scope="col">Evidence</th>
                <th scope="col" className="weight-col">
                  Weight
                </th>
                <th scope="col" className="n">
                  Share
                </th>
                <th scope="col" className="n">
                  Seen
                </th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.code}>
                  <td className="mono nowrap">{r.code}</td>
                  <td className="weight-col">
                    <span className="score-cell num">
                      <Meter value={r.weight} label={`Weight ${r.weight.toFixed(2)}`} />
                      {r.weight.toFixed(2)}
                    </span>
                  </td>
                  <td className="n num">{pct(total ? r.weight / total : 0)}</td>
                  <td className="n num">{r.count}</td>
                  <td className="small">{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Panel>
  );
}

function AlertsPanel({ alerts, canAct, onDispose }: { alerts: Alert[]; canAct: boolean; onDispose: (a: Alert) => void }) {
  return (
    <Panel title={`Alerts (${alerts.length})`} id="alerts">
      {alerts.length === 0 ? (
        <Empty title="No alert records." />
      ) : (
        <TableWrap label="Alerts">
          <table className="table dense">
            <thead>
              <tr>
                <th scope="col">Alert</th>
                <th scope="col">Detector</th>
                <th scope="col" className="n">
                  Score
                </th>
                <th scope="col" className="n">
                  Accounts
                </th>
                <th scope="col">Raised</th>
                <th scope="col">Disposition</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.alert_id}>
                  <td className="mono small">{a.alert_id}</td>
                  <td>{words(a.detector)}</td>
                  <td className="n num">{score(a.score)}</td>
                  <td className="n num">{a.subjects.accounts.length}</td>
                  <td className="num small" title={a.created_at}>
                    {ago(a.created_at)}
                  </td>
                  <td>
                    {a.disposition ? (
                      <span title={`${a.disposition.reason} — ${a.disposition.by}`}>
                        <span className={`badge verdict-${a.disposition.verdict}`}>{words(a.disposition.verdict)}</span>
                      </span>
                    ) : canAct ? (
                      <button type="button" className="btn btn-small" onClick={() => onDispose(a)}>
                        Dispose…
                      </button>
                    ) : (
                      <span className="muted small">pending</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Panel>
  );
}

function NotesPanel({ kase, canAct, onAdded }: { kase: Case; canAct: boolean; onAdded: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post(`${A}/cases/${encodeURIComponent(kase.case_id)}/notes`, { text: text.trim() });
      setText('');
      onAdded();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title={`Notes (${kase.notes.length})`} id="notes">
      {kase.notes.length === 0 && <p className="muted small">No notes yet.</p>}
      <ul className="notes">
        {kase.notes.map((n) => (
          <li key={n.note_id}>
            <div className="note-text">{n.text}</div>
            <div className="muted small">
              {n.author} · <span title={n.at}>{ago(n.at)}</span>
            </div>
          </li>
        ))}
      </ul>
      {canAct && (
        <form onSubmit={submit} className="note-form">
          <label htmlFor="note-text" className="sr-only">
            Add a note
          </label>
          <textarea id="note-text" rows={3} placeholder="Add a note for the next analyst…" value={text} onChange={(e) => setText(e.target.value)} />
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="btn btn-small" disabled={busy || !text.trim()}>
            {busy ? 'Adding…' : 'Add note'}
          </button>
        </form>
      )}
    </Panel>
  );
}

function FormButtons({ busy, label, danger, onCancel, disabled }: { busy: boolean; label: string; danger?: boolean; onCancel: () => void; disabled?: boolean }) {
  return (
    <div className="dialog-foot">
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled={busy || disabled}>
        {busy ? 'Working…' : label}
      </button>
    </div>
  );
}

function useSubmit(run: () => Promise<unknown>, onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run();
      onDone();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

const EXPIRIES: [string, number | null][] = [
  ['Until reversed', null],
  ['1 hour', 3600],
  ['24 hours', 86400],
  ['7 days', 7 * 86400],
  ['30 days', 30 * 86400],
];

function ActForm({ kase, onDone, onCancel }: { kase: Case; onDone: () => void; onCancel: () => void }) {
  const [action, setAction] = useState<ActionKind>('block');
  const [scope, setScope] = useState<'cluster' | 'accounts' | 'org'>(kase.clusters.length ? 'cluster' : 'accounts');
  const [reason, setReason] = useState('');
  const [expiry, setExpiry] = useState('0');
  const { busy, error, submit } = useSubmit(() => {
    const secs = EXPIRIES[Number(expiry)]?.[1];
    return api.post(`${A}/cases/${encodeURIComponent(kase.case_id)}/act`, {
      action,
      scope,
      reason: reason.trim(),
      ...(secs ? { expires_at: new Date(Date.now() + secs * 1000).toISOString() } : {}),
    });
  }, onDone);
  const target = scope === 'cluster' ? `cluster ${kase.clusters.join(', ')}` : scope === 'accounts' ? `${kase.accounts.length} account(s)` : 'the org(s) of the case’s accounts';
  return (
    <form onSubmit={submit}>
      <fieldset className="radio-cards">
        <legend>Action</legend>
        {ACTION_KINDS.map((k) => (
          <label key={k} className={`radio-card ${action === k ? 'checked' : ''}`}>
            <input type="radio" name="action" value={k} checked={action === k} onChange={() => setAction(k)} />
            <span>
              <strong>{words(k)}</strong>
              <span className="muted small">{ACTION_HELP[k]}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="field-row">
        <div className="field">
          <label htmlFor="act-scope">Apply to</label>
          <select id="act-scope" value={scope} onChange={(e) => setScope(e.target.value as typeof scope)}>
            <option value="cluster" disabled={!kase.clusters.length}>
              Cluster{kase.clusters.length ? ` (${kase.clusters.length})` : ' (none)'}
            </option>
            <option value="accounts">Accounts ({kase.accounts.length})</option>
            <option value="org">Orgs of the accounts</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="act-expiry">Duration</label>
          <select id="act-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRIES.map(([l], i) => (
              <option key={l} value={String(i)}>
                {l}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="act-reason">Reason (required, kept in the audit log and the report)</label>
        <textarea id="act-reason" rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} placeholder="What the evidence shows and why this action fits" />
      </div>
      <p className="confirm-line" role="note">
        This will <strong>{words(action)}</strong> {target}. It takes effect at the gateway on the next request.
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <FormButtons busy={busy} label={`Confirm ${words(action)}`} danger={action === 'block'} onCancel={onCancel} disabled={!reason.trim()} />
    </form>
  );
}

function ReverseForm({ caseId, action, onDone, onCancel }: { caseId: string; action: EnforcementAction; onDone: () => void; onCancel: () => void }) {
  const [reason, setReason] = useState('');
  const { busy, error, submit } = useSubmit(() => api.post(`${A}/cases/${encodeURIComponent(caseId)}/reverse`, { action_id: action.action_id, reason: reason.trim() }), onDone);
  return (
    <form onSubmit={submit}>
      <p>
        Reverse <strong>{action.decision}</strong> on {action.subject.kind} <Mono>{action.subject.id}</Mono>. The subject is served normally from its next request.
      </p>
      <div className="field">
        <label htmlFor="rev-reason">Reason (required)</label>
        <textarea id="rev-reason" rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <FormButtons busy={busy} label="Reverse action" onCancel={onCancel} disabled={!reason.trim()} />
    </form>
  );
}

function DisposeForm({ alert, onDone, onCancel }: { alert: Alert; onDone: () => void; onCancel: () => void }) {
  const [verdict, setVerdict] = useState<(typeof VERDICTS)[number]>('true_positive');
  const [reason, setReason] = useState('');
  const { busy, error, submit } = useSubmit(() => api.post(`${A}/alerts/${encodeURIComponent(alert.alert_id)}/disposition`, { verdict, reason: reason.trim() }), onDone);
  return (
    <form onSubmit={submit}>
      <p className="small">
        Alert <Mono>{alert.alert_id}</Mono> from {words(alert.detector)}, score {score(alert.score)}. A false positive is not raised again for the same evidence.
      </p>
      <div className="field">
        <label htmlFor="disp-verdict">Verdict</label>
        <select id="disp-verdict" value={verdict} onChange={(e) => setVerdict(e.target.value as typeof verdict)}>
          {VERDICTS.map((v) => (
            <option key={v} value={v}>
              {words(v)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="disp-reason">Reason (required)</label>
        <textarea id="disp-reason" rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <FormButtons busy={busy} label="Save disposition" onCancel={onCancel} disabled={!reason.trim()} />
    </form>
  );
}

function StatusForm({ kase, onDone, onCancel }: { kase: Case; onDone: () => void; onCancel: () => void }) {
  const [status, setStatus] = useState(kase.status);
  const [reason, setReason] = useState('');
  const { busy, error, submit } = useSubmit(() => api.post(`${A}/cases/${encodeURIComponent(kase.case_id)}/status`, { status, ...(reason.trim() ? { reason: reason.trim() } : {}) }), onDone);
  return (
    <form onSubmit={submit}>
      <div className="field">
        <label htmlFor="st-status">Status</label>
        <select id="st-status" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {words(s)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="st-reason">Reason</label>
        <textarea id="st-reason" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <FormButtons busy={busy} label="Save status" onCancel={onCancel} disabled={status === kase.status} />
    </form>
  );
}

function AssignForm({ kase, me, onDone, onCancel }: { kase: Case; me: string; onDone: () => void; onCancel: () => void }) {
  const [who, setWho] = useState(kase.assignee ?? me);
  const { busy, error, submit } = useSubmit(() => api.post(`${A}/cases/${encodeURIComponent(kase.case_id)}/assign`, { assignee: who.trim() || null }), onDone);
  return (
    <form onSubmit={submit}>
      <div className="field">
        <label htmlFor="as-who">Assignee (empty to unassign)</label>
        <input id="as-who" value={who} onChange={(e) => setWho(e.target.value)} />
      </div>
      <button type="button" className="link-btn" onClick={() => setWho(me)}>
        Assign to me
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <FormButtons busy={busy} label="Save" onCancel={onCancel} />
    </form>
  );
}
