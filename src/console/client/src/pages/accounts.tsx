import { useEffect, useState, type FormEvent } from 'react';
import { A } from '../api';
import { PageHeader } from '../components/layout';
import { Empty, ErrorBox, Panel, Skeleton, TableWrap } from '../components/ui';
import { dateTime } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href, navigate } from '../router';
import type { Account } from '../types';

export function AccountsPage({ query }: { query: URLSearchParams }) {
  const ref = usePageTitle('Accounts');
  const q = query.get('q') ?? '';
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const { data, error, loading, reload } = useApi<{ accounts: Account[] }>(`${A}/accounts?limit=200${q ? `&q=${encodeURIComponent(q)}` : ''}`);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate('/accounts', { q: text.trim() }, true);
  };
  const rows = data?.accounts ?? [];
  return (
    <>
      <PageHeader title="Accounts" titleRef={ref} kicker="Customers">
        <p className="page-sub">Search by account id, org id, email or name.</p>
      </PageHeader>
      <form className="filters" role="search" aria-label="Search accounts" onSubmit={submit}>
        <div className="field inline grow">
          <label htmlFor="acc-q">Search</label>
          <input id="acc-q" type="search" value={text} placeholder="acc_…, org_…, name@domain, company name" onChange={(e) => setText(e.target.value)} />
        </div>
        <button type="submit" className="btn btn-primary">
          Search
        </button>
      </form>
      <Panel>
        {error ? (
          <ErrorBox error={error} onRetry={reload} />
        ) : loading && !data ? (
          <Skeleton rows={6} />
        ) : rows.length === 0 ? (
          <Empty title={q ? `No account matches “${q}”.` : 'No accounts yet.'}>{q ? 'Try part of an id, an email domain or an org name.' : 'Accounts appear here when they are created through the admin API.'}</Empty>
        ) : (
          <TableWrap label="Accounts">
            <table className="table">
              <caption className="sr-only">Accounts</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Org</th>
                  <th scope="col" className="hide-narrow">
                    Email
                  </th>
                  <th scope="col" className="hide-narrow">
                    Country
                  </th>
                  <th scope="col" className="hide-narrow">
                    Verification
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.account_id}>
                    <td className="mono">
                      <a href={href(`/accounts/${encodeURIComponent(a.account_id)}`)}>{a.account_id}</a>
                    </td>
                    <td>
                      <a href={href(`/orgs/${encodeURIComponent(a.org_id)}`)}>{a.org_name ?? a.org_id}</a>
                    </td>
                    <td className="hide-narrow">{a.email ?? (a.email_domain ? `@${a.email_domain}` : <span className="muted">—</span>)}</td>
                    <td className="hide-narrow">{a.declared_country ?? <span className="muted">—</span>}</td>
                    <td className="hide-narrow">{a.verification ?? <span className="muted">—</span>}</td>
                    <td className="num small">{dateTime(a.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
        {rows.length > 0 && <p className="table-foot muted small num">{rows.length} account(s){rows.length >= 200 ? ' — the first 200; narrow the search' : ''}</p>}
      </Panel>
    </>
  );
}
