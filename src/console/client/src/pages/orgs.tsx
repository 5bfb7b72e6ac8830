import { A } from '../api';
import { PageHeader } from '../components/layout';
import { Empty, ErrorBox, KeyValues, Mono, Panel, Skeleton, TableWrap } from '../components/ui';
import { dateTime, words } from '../format';
import { useApi, usePageTitle } from '../hooks';
import { href } from '../router';
import type { Account, Org } from '../types';

function ScreeningBadge({ org }: { org: Org }) {
  const s = org.screening?.status;
  if (!s) return <span className="badge muted-badge">not screened</span>;
  return <span className={`badge ${s === 'clear' ? 'ok-badge' : 'sev-critical'}`}>{words(s)}</span>;
}

export function OrgsPage() {
  const ref = usePageTitle('Orgs');
  const { data, error, loading, reload } = useApi<{ orgs: Org[] }>(`${A}/orgs?limit=500`);
  const rows = data?.orgs ?? [];
  return (
    <>
      <PageHeader title="Orgs" titleRef={ref} kicker="Customers">
        <p className="page-sub">Organisations, their declared facts and the result of their last screening.</p>
      </PageHeader>
      <Panel>
        {error ? (
          <ErrorBox error={error} onRetry={reload} />
        ) : loading && !data ? (
          <Skeleton rows={6} />
        ) : rows.length === 0 ? (
          <Empty title="No orgs yet." />
        ) : (
          <TableWrap label="Orgs">
            <table className="table">
              <caption className="sr-only">Orgs</caption>
              <thead>
                <tr>
                  <th scope="col">Org</th>
                  <th scope="col">Screening</th>
                  <th scope="col" className="hide-narrow">
                    Country
                  </th>
                  <th scope="col" className="hide-narrow">
                    Verification
                  </th>
                  <th scope="col" className="hide-narrow">
                    Domain
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((o) => (
                  <tr key={o.org_id}>
                    <td className="cell-main">
                      <a href={href(`/orgs/${encodeURIComponent(o.org_id)}`)}>{o.name}</a>
                      <div className="sub mono">{o.org_id}</div>
                    </td>
                    <td>
                      <ScreeningBadge org={o} />
                    </td>
                    <td className="hide-narrow">{o.declared_country ?? '—'}</td>
                    <td className="hide-narrow">{o.verification}</td>
                    <td className="hide-narrow">{o.email_domain ?? '—'}</td>
                    <td className="num small">{dateTime(o.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Panel>
    </>
  );
}

export function OrgPage({ orgId }: { orgId: string }) {
  const org = useApi<Org>(`${A}/orgs/${encodeURIComponent(orgId)}`);
  const accounts = useApi<{ accounts: Account[] }>(`${A}/accounts?org_id=${encodeURIComponent(orgId)}&limit=500`);
  const ref = usePageTitle(org.data?.name ?? 'Org');
  const o = org.data;
  return (
    <>
      <PageHeader titleRef={ref} kicker={<><a href="#/orgs">Orgs</a> / <Mono>{orgId}</Mono></>} title={o?.name ?? orgId}>
        {o && (
          <div className="case-badges">
            <ScreeningBadge org={o} />
          </div>
        )}
      </PageHeader>
      {org.error ? (
        <ErrorBox error={org.status === 404 ? `No org “${orgId}”.` : org.error} onRetry={org.reload} />
      ) : !o ? (
        <Skeleton rows={6} />
      ) : (
        <div className="grid-2-1">
          <Panel title={`Accounts (${accounts.data?.accounts.length ?? '…'})`}>
            {accounts.error ? (
              <ErrorBox error={accounts.error} onRetry={accounts.reload} />
            ) : !accounts.data ? (
              <Skeleton rows={4} />
            ) : accounts.data.accounts.length === 0 ? (
              <Empty title="This org has no accounts." />
            ) : (
              <TableWrap label="Accounts of the org">
                <table className="table dense">
                  <thead>
                    <tr>
                      <th scope="col">Account</th>
                      <th scope="col">Email</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {accounts.data.accounts.map((a) => (
                      <tr key={a.account_id}>
                        <td className="mono">
                          <a href={href(`/accounts/${encodeURIComponent(a.account_id)}`)}>{a.account_id}</a>
                        </td>
                        <td>{a.email ?? (a.email_domain ? `@${a.email_domain}` : '—')}</td>
                        <td className="num small">{dateTime(a.created_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Panel>
          <div className="stack">
            <Panel title="Org">
              <KeyValues
                items={[
                  ['Aliases', o.aliases.length ? o.aliases.join(', ') : undefined],
                  ['Domain', o.email_domain],
                  ['Country', o.declared_country],
                  ['Payment country', o.payment_country],
                  ['Declared use', o.declared_use && words(o.declared_use)],
                  ['Verification', o.verification],
                  ['Created', dateTime(o.created_at)],
                  ['Updated', dateTime(o.updated_at)],
                ]}
              />
            </Panel>
            <Panel title="Screening">
              {!o.screening ? (
                <p className="muted small">Not screened yet.</p>
              ) : o.screening.hits.length === 0 ? (
                <p className="muted small">Clear against lists {o.screening.lists_version} ({dateTime(o.screening.screened_at)}).</p>
              ) : (
                <ul className="reasons">
                  {o.screening.hits.map((h) => (
                    <li key={`${h.list}-${h.entity_id}`}>
                      <strong>{h.entity_name}</strong> <span className="badge sev-critical">{h.kind}</span>
                      <span className="num small push">{h.score.toFixed(2)}</span>
                      <div className="muted small">
                        {h.list} · {h.explanation}
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </Panel>
          </div>
        </div>
      )}
    </>
  );
}
