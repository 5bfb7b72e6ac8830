import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { A } from '../api';
import { PageHeader } from '../components/layout';
import { Empty, ErrorBox, Meter, Panel, SeverityBadge, Skeleton, StatusBadge, TableWrap } from '../components/ui';
import { ago, score } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href, navigate } from '../router';
import { SEVERITIES, STATUSES, type Case } from '../types';

export function CasesPage({ query }: { query: URLSearchParams }) {
  const ref = usePageTitle('Cases');
  const status = query.get('status') ?? 'open,investigating,appealed';
  const severity = query.get('severity') ?? '';
  const assignee = query.get('assignee') ?? '';
  const q = query.get('q') ?? '';
  const apiPath = useMemo(() => {
    const p = new URLSearchParams({ limit: '500' });
    if (status && status !== 'all') p.set('status', status);
    if (severity) p.set('severity', severity);
    if (assignee) p.set('assignee', assignee);
    return `${A}/cases?${p}`;
  }, [status, severity, assignee]);
  const { data, error, loading, reload } = useApi<{ cases: Case[] }>(apiPath);
  const [text, setText] = useState(q);
  const [who, setWho] = useState(assignee);
  useEffect(() => setText(q), [q]);
  useEffect(() => setWho(assignee), [assignee]);

  const set = (patch: Record<string, string>) => {
    const next: Record<string, string | undefined> = { status, severity, assignee, q, ...patch };
    navigate('/cases', next, true);
  };
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    set({ q: text.trim(), assignee: who.trim() });
  };

  const needle = q.toLowerCase();
  const rows = (data?.cases ?? []).filter(
    (c) => !needle || [c.case_id, c.title, c.entity ?? '', ...c.accounts, ...c.clusters].some((s) => s.toLowerCase().includes(needle)),
  );
  const sevOrder = (s: string) => SEVERITIES.indexOf(s as never);
  rows.sort((a, b) => sevOrder(a.severity) - sevOrder(b.severity) || (a.updated_at < b.updated_at ? 1 : -1));

  return (
    <>
      <PageHeader title="Cases" titleRef={ref} kicker="Investigations">
        <p className="page-sub">Alerts merged by cluster and entity. Highest severity first, then most recently updated.</p>
      </PageHeader>
      <form className="filters" onSubmit={onSearch} role="search" aria-label="Filter cases">
        <div className="field inline">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={status} onChange={(e) => set({ status: e.target.value })}>
            <option value="open,investigating,appealed">Needs attention</option>
            <option value="all">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s[0]!.toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="f-severity">Severity</label>
          <select id="f-severity" value={severity} onChange={(e) => set({ severity: e.target.value })}>
            <option value="">Any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s[0]!.toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="f-assignee">Assignee</label>
          <input id="f-assignee" value={who} placeholder="anyone" onChange={(e) => setWho(e.target.value)} />
        </div>
        <div className="field inline grow">
          <label htmlFor="f-q">Search</label>
          <input id="f-q" type="search" value={text} placeholder="Case, title, account, cluster or entity" onChange={(e) => setText(e.target.value)} />
        </div>
        <button type="submit" className="btn">
          Apply
        </button>
      </form>
      <Panel>
        {error ? (
          <ErrorBox error={error} onRetry={reload} />
        ) : loading && !data ? (
          <Skeleton rows={6} />
        ) : rows.length === 0 ? (
          <Empty title="No case matches these filters.">Detection opens cases as alerts arrive. Try “All” statuses or clear the search.</Empty>
        ) : (
          <TableWrap label="Cases">
            <table className="table">
              <caption className="sr-only">Cases</caption>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Case</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="n">
                    Accounts
                  </th>
                  <th scope="col" className="hide-narrow">
                    Entity
                  </th>
                  <th scope="col" className="hide-narrow">
                    Assignee
                  </th>
                  <th scope="col" className="n">
                    Score
                  </th>
                  <th scope="col" className="n">
                    Updated
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.case_id}>
                    <td>
                      <SeverityBadge severity={c.severity} />
                    </td>
                    <td className="cell-main">
                      <a href={href(`/cases/${encodeURIComponent(c.case_id)}`)}>{c.title}</a>
                      <div className="sub mono">{c.case_id}</div>
                    </td>
                    <td>
                      <StatusBadge status={c.status} />
                    </td>
                    <td className="n num">{c.accounts.length}</td>
                    <td className="hide-narrow">{c.entity ?? <span className="muted">—</span>}</td>
                    <td className="hide-narrow">{c.assignee ?? <span className="muted">unassigned</span>}</td>
                    <td className="n num">
                      <span className="score-cell">
                        <Meter value={c.score} label={`Score ${score(c.score)}`} />
                        {score(c.score)}
                      </span>
                    </td>
                    <td className="n num" title={c.updated_at}>
                      {ago(c.updated_at)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
        {data && rows.length > 0 && (
          <p className="table-foot muted small num">
            {rows.length} case{rows.length === 1 ? '' : 's'}
            {needle ? ` matching “${q}”` : ''}
          </p>
        )}
      </Panel>
    </>
  );
}
