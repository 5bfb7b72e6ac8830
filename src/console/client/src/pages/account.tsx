import { useMemo } from 'react';
import { A } from '../api';
import { TimeChart } from '../components/chart';
import { PageHeader } from '../components/layout';
import { DecisionBadge, Empty, ErrorBox, KeyValues, Meter, Mono, Panel, SeverityBadge, Skeleton, Stat, StatusBadge, TableWrap } from '../components/ui';
import { ago, compact, dateTime, num, pct, score, words } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href } from '../router';
import type { Account, AccountOverview } from '../types';

export function AccountPage({ accountId }: { accountId: string }) {
  const o = useApi<AccountOverview>(`${A}/accounts/${encodeURIComponent(accountId)}/overview`);
  // An older server without the overview route: fall back to the plain account record.
  const plain = useApi<Account>(o.status === 404 && !o.data ? `${A}/accounts/${encodeURIComponent(accountId)}` : null);
  const ref = usePageTitle(`Account ${accountId}`);
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
          <Panel title={`Keys (${data.keys.length})`} id="keys">
            {data.keys.length === 0 ? (
              <p className="muted small">No keys.</p>
            ) : (
              <ul className="plain-list">
                {data.keys.map((k) => (
                  <li key={k.key_id}>
                    <span className="mono small">{k.prefix}…</span> {k.name && <span className="small">{k.name}</span>}
                    {k.revoked_at ? <span className="badge sev-critical push">revoked</span> : k.expires_at && Date.parse(k.expires_at) < Date.now() ? <span className="badge muted-badge push">expired</span> : <span className="badge ok-badge push">active</span>}
                    <div className="muted small">
                      <Mono>{k.key_id}</Mono> · created {dateTime(k.created_at)} · last used {k.last_used_at ? ago(k.last_used_at) : 'never'}
                    </div>
                  </li>
                ))}
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
    </>
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
