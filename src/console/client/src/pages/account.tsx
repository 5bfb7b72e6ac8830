import { useMemo, useState } from 'react';
import { A, api, errorText } from '../api';
import { TimeChart } from '../components/chart';
import { ConfirmForm, Dialog } from '../components/dialog';
import { SecretOnce } from '../components/secret';
import { PageHeader } from '../components/layout';
import { DecisionBadge, Empty, ErrorBox, KeyValues, Meter, Mono, Panel, SeverityBadge, Skeleton, Stat, StatusBadge, TableWrap } from '../components/ui';
import { ago, compact, dateTime, num, pct, score, words } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href } from '../router';
import { isAdmin, useUser } from '../session';
import type { Account, AccountOverview, PublicKey } from '../types';

export function AccountPage({ accountId }: { accountId: string }) {
  const o = useApi<AccountOverview>(`${A}/accounts/${encodeURIComponent(accountId)}/overview`);
  // An older server without the overview route: fall back to the plain account record.
  const plain = useApi<Account>(o.status === 404 && !o.data ? `${A}/accounts/${encodeURIComponent(accountId)}` : null);
  const ref = usePageTitle(`Account ${accountId}`);
  const admin = isAdmin(useUser());
  const [issuing, setIssuing] = useState(false);
  // The new key's secret lives only here, only while its dialog is open.
  const [issued, setIssued] = useState<{ key_id: string; prefix: string; key: string } | null>(null);
  const [revoking, setRevoking] = useState<PublicKey | null>(null);
  const data = useMemo(() => (o.data ? { ...o.data, series: recent(o.data.series) } : undefined), [o.data]);
  const times = useMemo(() => (data?.series ?? []).map((s) => Date.parse(s.at) / 1000), [data]);
  const reqSeries = useMemo(
    () => [
      { label: 'Requests', values: (data?.series ?? []).map((s) => s.requests), color: '#3b6fb6', bars: true },
      { label: 'Refused', values: (data?.series ?? []).map((s) => s.refused), color: '#d92d20', bars: true },
    ],
    [data],
  );
  const tokSeries = useMemo(
    () => [
      { label: 'Input tokens', values: (data?.series ?? []).map((s) => s.input_tokens), color: '#0e7c6b', fill: true },
      { label: 'Output tokens', values: (data?.series ?? []).map((s) => s.output_tokens), color: '#7a3ea8', fill: true },
    ],
    [data],
  );
  const ipSeries = useMemo(() => [{ label: 'Distinct IPs', values: (data?.series ?? []).map((s) => s.distinct_ips), color: '#b54708' }], [data]);
  const head = (
    <PageHeader
      titleRef={ref}
      kicker={
        <>
          <a href="#/accounts">Accounts</a> / account
        </>
      }
      title={<Mono>{accountId}</Mono>}
    />
  );

  if (!data) {
    if (o.status === 404 && plain.data) {
      return (
        <>
          {head}
          <p className="notice">This server has no account overview route; showing the account record only.</p>
          <Panel title="Account">
            <AccountFacts a={plain.data} />
          </Panel>
        </>
      );
    }
    return (
      <>
        {head}
        {o.error && o.status !== 404 ? <ErrorBox error={o.error} onRetry={o.reload} /> : plain.error ? <ErrorBox error={`No account “${accountId}”.`} /> : <Skeleton rows={8} />}
      </>
    );
  }
  const a = data.account;
  const orgName = data.org?.name;
  const risk = data.risk;
  return (
    <>
      {head}
      <div className="case-badges account-badges">
        {a.status === 'deleted' && <span className="badge sev-critical">erased</span>}
        {risk && <DecisionBadge decision={risk.action} label={`Policy: ${words(risk.action)}`} />}
        {risk?.cluster_id && <span className="badge muted-badge mono">{risk.cluster_id}</span>}
        {data.org && (
          <a className="badge muted-badge" href={href(`/orgs/${encodeURIComponent(data.org.org_id)}`)}>
            {data.org.name}
          </a>
        )}
      </div>
      <div className="stats">
        <Stat label="Requests" value={compact(sum(data.series, 'requests'))} hint={`over ${data.series.length} h charted`} />
        <Stat label="Refused" value={compact(sum(data.series, 'refused'))} hint={`${pct(sum(data.series, 'requests') ? sum(data.series, 'refused') / sum(data.series, 'requests') : 0, 1)} of requests`} tone={sum(data.series, 'refused') ? 'bad' : undefined} />
        <Stat label="Output tokens" value={compact(sum(data.series, 'output_tokens'))} hint={`${compact(sum(data.series, 'input_tokens'))} input tokens`} />
        <Stat label="Active keys" value={num(data.keys.filter((k) => !k.revoked_at && !(k.expires_at && Date.parse(k.expires_at) < Date.now())).length)} hint={`${data.keys.length} issued`} />
        <Stat label="Risk" value={risk ? score(risk.score) : '—'} hint={risk ? `policy: ${words(risk.action)}` : 'not scored'} tone={risk && risk.score >= 0.8 ? 'bad' : undefined} />
      </div>
      <div className="grid-2-1">
        <div className="stack">
          <Panel title="Requests per hour" id="requests">
            {times.length === 0 ? <Empty title="No requests recorded." /> : <TimeChart label="Requests and refusals per hour" times={times} series={reqSeries} height={150} />}
          </Panel>
          <Panel title="Tokens per hour" id="tokens">
            {times.length === 0 ? <Empty title="No tokens recorded." /> : <TimeChart label="Input and output tokens per hour" times={times} series={tokSeries} height={150} />}
          </Panel>
          <Panel title="Distinct client addresses per hour" id="ips">
            {times.length === 0 ? <Empty title="No requests recorded." /> : <TimeChart label="Distinct client IP addresses per hour" times={times} series={ipSeries} height={110} />}
          </Panel>
          <Panel title="Recent decisions" id="decisions">
            {data.decisions.length === 0 ? (
              <Empty title="No decisions recorded." />
            ) : (
              <TableWrap label="Recent decisions" className="scroll-y">
                <table className="table dense">
                  <thead>
                    <tr>
                      <th scope="col">At</th>
                      <th scope="col">Decision</th>
                      <th scope="col">Rule</th>
                      <th scope="col" className="hide-narrow">
                        Request
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.decisions.map((d) => (
                      <tr key={d.request_id}>
                        <td className="num small">{dateTime(d.at)}</td>
                        <td>
                          <DecisionBadge decision={d.decision} />
                        </td>
                        <td className="mono small">{d.rule ?? '—'}</td>
                        <td className="mono small hide-narrow">{d.request_id}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Panel>
        </div>
        <div className="stack">
          <Panel title="Risk" id="risk">
            {!risk ? (
              <Empty title="No risk assessed yet.">Detection scores an account once it has traffic.</Empty>
            ) : (
              <>
                <div className="risk-head">
                  <span className="risk-score num">{score(risk.score)}</span>
                  <Meter value={risk.score} label={`Risk ${score(risk.score)}`} />
                </div>
                <ul className="reasons">
                  {risk.reasons.map((r) => (
                    <li key={r.code}>
                      <span className="mono small">{r.code}</span>
                      <span className="num small push">{r.weight.toFixed(2)}</span>
                      <div className="muted small">{r.detail}</div>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </Panel>
          <Panel title="Account" id="facts">
            <AccountFacts a={a} orgName={orgName} />
          </Panel>
          <Panel title={`Screening hits (${data.screening.length})`} id="screening">
            {data.screening.length === 0 ? (
              <p className="muted small">The org is clear against the loaded lists.</p>
            ) : (
              <ul className="reasons">
                {data.screening.map((h) => (
                  <li key={`${h.list}-${h.entity_id}`}>
                    <strong>{h.entity_name}</strong> <span className={`badge ${h.kind === 'sanctioned' ? 'sev-critical' : 'sev-high'}`}>{h.kind}</span>
                    <span className="num small push">{h.score.toFixed(2)}</span>
                    <div className="muted small">
                      {h.list} · {words(h.matched_on)} · {h.explanation}
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          <Panel
            title={`Keys (${data.keys.length})`}
            id="keys"
            actions={
              admin && a.status !== 'deleted' ? (
                <button type="button" className="btn btn-small" onClick={() => setIssuing(true)}>
                  Issue key…
                </button>
              ) : undefined
            }
          >
            {data.keys.length === 0 ? (
              <p className="muted small">No keys.</p>
            ) : (
              <ul className="plain-list">
                {data.keys.map((k) => {
                  const expired = !k.revoked_at && !!k.expires_at && Date.parse(k.expires_at) < Date.now();
                  return (
                    <li key={k.key_id}>
                      <div className="key-line">
                        <span className="mono small">{k.prefix}…</span>
                        {k.name && <span className="small">{k.name}</span>}
                        {k.revoked_at ? <span className="badge sev-critical push">revoked</span> : expired ? <span className="badge muted-badge push">expired</span> : <span className="badge ok-badge push">active</span>}
                        {admin && !k.revoked_at && !expired && (
                          <button type="button" className="btn btn-small" aria-label={`Revoke key ${k.prefix}…`} onClick={() => setRevoking(k)}>
                            Revoke
                          </button>
                        )}
                      </div>
                      <div className="muted small">
                        <Mono>{k.key_id}</Mono> · created {dateTime(k.created_at)} · last used {k.last_used_at ? ago(k.last_used_at) : 'never'}
                        {k.revoked_at && <> · revoked {dateTime(k.revoked_at)}</>}
                      </div>
                    </li>
                  );
                })}
              </ul>
            )}
          </Panel>
          <Panel title={`Actions (${data.actions.length})`} id="actions">
            {data.actions.length === 0 ? (
              <p className="muted small">No enforcement action on this account.</p>
            ) : (
              <ul className="plain-list">
                {data.actions.map((x) => (
                  <li key={x.action_id} className={x.reversed_at ? 'reversed' : ''}>
                    <DecisionBadge decision={x.decision} /> <span className="small">{x.subject.kind}</span> {x.reversed_at && <span className="badge muted-badge">reversed</span>}
                    <div className="small">{x.reason}</div>
                    <div className="muted small">
                      {x.author} · {dateTime(x.created_at)}
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          <Panel title={`Cases (${data.cases.length})`} id="cases">
            {data.cases.length === 0 ? (
              <p className="muted small">In no case.</p>
            ) : (
              <ul className="recent">
                {data.cases.map((c) => (
                  <li key={c.case_id}>
                    <SeverityBadge severity={c.severity} />
                    <a href={href(`/cases/${encodeURIComponent(c.case_id)}`)}>{c.title}</a>
                    <StatusBadge status={c.status} />
                  </li>
                ))}
              </ul>
            )}
          </Panel>
        </div>
      </div>
      <Dialog open={issuing} title="Issue an API key" onClose={() => setIssuing(false)}>
        {issuing && (
          <IssueKeyForm
            accountId={a.account_id}
            onCancel={() => setIssuing(false)}
            onDone={(k) => {
              setIssuing(false);
              setIssued(k);
              o.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={issued !== null} title="New API key" onClose={() => setIssued(null)}>
        {issued && (
          <>
            <SecretOnce id="new-key" label={`Key ${issued.prefix}… (${issued.key_id})`} value={issued.key} warning="Copy the key now and hand it to the customer over a safe channel. Warden stores only its hash: once this dialog is closed the key cannot be shown again." />
            <div className="dialog-foot">
              <button type="button" className="btn btn-primary" onClick={() => setIssued(null)}>
                I have stored the key
              </button>
            </div>
          </>
        )}
      </Dialog>
      <Dialog open={revoking !== null} title="Revoke API key" onClose={() => setRevoking(null)}>
        {revoking && (
          <RevokeKeyForm
            k={revoking}
            onCancel={() => setRevoking(null)}
            onDone={() => {
              setRevoking(null);
              o.reload();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function IssueKeyForm({ accountId, onDone, onCancel }: { accountId: string; onDone: (k: { key_id: string; prefix: string; key: string }) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          const r = await api.post<PublicKey & { key: string }>(`${A}/keys`, { account_id: accountId, ...(name.trim() ? { name: name.trim() } : {}) });
          onDone({ key_id: r.key_id, prefix: r.prefix, key: r.key });
        } catch (err) {
          setError(errorText(err));
          setBusy(false);
        }
      }}
    >
      <p>
        A new key for <Mono>{accountId}</Mono>. It works at once; the org is screened again when it is issued. The key is shown once, in the next dialog.
      </p>
      <div className="field">
        <label htmlFor="key-name">Name (optional)</label>
        <input id="key-name" maxLength={200} autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. production" />
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
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Issuing…' : 'Issue key'}
        </button>
      </div>
    </form>
  );
}

function RevokeKeyForm({ k, onDone, onCancel }: { k: PublicKey; onDone: () => void; onCancel: () => void }) {
  return (
    <ConfirmForm run={() => api.post(`${A}/keys/${encodeURIComponent(k.key_id)}/revoke`, undefined)} onDone={onDone} onCancel={onCancel} submit="Revoke key" busyLabel="Revoking…" tone="danger">
      <p>
        Key <Mono>{k.prefix}…</Mono> {k.name && <>({k.name}) </>}is refused by every gateway from its next request. Revoking cannot be undone; issue a new key instead. The revocation is recorded in the audit log.
      </p>
    </ConfirmForm>
  );
}

/** The hours from shortly before the first activity (at least the last 24), not a week of empty bars. */
function recent<T extends { requests: number }>(series: T[]): T[] {
  const first = series.findIndex((s) => s.requests > 0);
  if (first < 0) return series.slice(-24);
  return series.slice(Math.max(0, Math.min(first - 3, series.length - 24)));
}

const sum = <K extends 'requests' | 'refused' | 'input_tokens' | 'output_tokens'>(series: AccountOverview['series'], k: K) => series.reduce((t, x) => t + x[k], 0);

function AccountFacts({ a, orgName }: { a: Account; orgName?: string | undefined }) {
  return (
    <KeyValues
      items={[
        ['Org', <a href={href(`/orgs/${encodeURIComponent(a.org_id)}`)}>{orgName ?? a.org_name ?? a.org_id}</a>],
        ['Email', a.email ?? (a.email_domain ? `@${a.email_domain}` : undefined)],
        ['Country', a.declared_country],
        ['Declared use', a.declared_use && words(a.declared_use)],
        ['Verification', a.verification],
        ['Payment', a.payment_fingerprint && <Mono>{a.payment_fingerprint}</Mono>],
        ['Payment country', a.payment_country],
        ['Device', a.device_fingerprint && <Mono>{a.device_fingerprint}</Mono>],
        ['Signup IP', a.signup_ip && <Mono>{a.signup_ip}</Mono>],
        ['Created', dateTime(a.created_at)],
      ]}
    />
  );
}
