import { useEffect, useMemo, useState } from 'react';
import { A, api, errorText } from '../api';
import { BarList, TimeChart } from '../components/chart';
import { PageHeader } from '../components/layout';
import { Empty, ErrorBox, Meter, Panel, SeverityBadge, Skeleton, Stat, TableWrap } from '../components/ui';
import { ago, compact, duration, num, pct, score, words } from '../format';
import { usePageTitle } from '../hooks';
import { href } from '../router';
import { SEVERITIES, type Overview } from '../types';

type Live = 'connecting' | 'live' | 'polling';

/** The overview from the SSE stream `/admin/v1/live`; if the stream cannot open, polls every 5 s. */
function useOverview(): { data: Overview | undefined; error: string | undefined; live: Live } {
  const [data, setData] = useState<Overview>();
  const [error, setError] = useState<string>();
  const [live, setLive] = useState<Live>('connecting');
  useEffect(() => {
    let closed = false;
    let timer: number | undefined;
    let es: EventSource | undefined;
    let failures = 0;
    const poll = async () => {
      try {
        const o = await api.get<Overview>(`${A}/overview`);
        if (closed) return;
        setData(o);
        setError(undefined);
      } catch (e) {
        if (!closed) setError(errorText(e));
      }
      if (!closed) timer = window.setTimeout(poll, 5000);
    };
    const startPolling = () => {
      es?.close();
      setLive('polling');
      void poll();
    };
    if (typeof EventSource === 'undefined') startPolling();
    else {
      es = new EventSource(`${A}/live`);
      es.addEventListener('overview', (ev) => {
        failures = 0;
        try {
          setData(JSON.parse((ev as MessageEvent<string>).data) as Overview);
          setError(undefined);
          setLive('live');
        } catch {
          setError('The live stream sent data this console cannot read; reload the page.');
        }
      });
      es.onerror = () => {
        failures++;
        // The browser retries on its own; after repeated failures (or a 401/403 closing the stream), poll instead.
        if (es?.readyState === EventSource.CLOSED || failures >= 3) startPolling();
        else setLive('connecting');
      };
    }
    return () => {
      closed = true;
      es?.close();
      if (timer) window.clearTimeout(timer);
    };
  }, []);
  return { data, error, live };
}

export function OverviewPage() {
  const ref = usePageTitle('Overview');
  const { data, error, live } = useOverview();
  const traffic = data?.traffic;
  const times = useMemo(() => (traffic?.buckets ?? []).map((b) => Date.parse(b.at) / 1000), [traffic]);
  const series = useMemo(
    () => [
      // Refused bars drawn over the total: a stacked look without stacking.
      { label: 'Requests', values: (traffic?.buckets ?? []).map((b) => b.allowed + b.refused), color: '#6d95cf', bars: true },
      { label: 'Refused', values: (traffic?.buckets ?? []).map((b) => b.refused), color: '#d92d20', bars: true },
    ],
    [traffic],
  );
  const liveBadge = (
    <span className={`live live-${live}`} role="status">
      <span className="live-dot" aria-hidden="true" />
      {live === 'live' ? 'Live' : live === 'polling' ? 'Refreshing every 5 s' : 'Connecting…'}
      {data && <span className="muted"> · updated {new Date(data.generated_at).toISOString().slice(11, 19)} UTC</span>}
    </span>
  );

  if (!data) {
    return (
      <>
        <PageHeader title="Overview" titleRef={ref} kicker="Last 60 minutes" actions={liveBadge} />
        {error ? <ErrorBox error={error} /> : <Skeleton rows={8} />}
      </>
    );
  }
  const t = data.traffic.totals;
  const total = t.allowed + t.refused;
  const h = data.health;
  return (
    <>
      <PageHeader title="Overview" titleRef={ref} kicker="Last 60 minutes" actions={liveBadge} />
      {error && <ErrorBox error={`Showing the last data received. ${error}`} />}
      <div className="stats">
        <Stat label="Requests" value={compact(total)} hint={`${num(Math.round(total / Math.max(1, data.traffic.window_minutes)))} / min`} />
        <Stat label="Refused" value={compact(t.refused)} hint={`${pct(total ? t.refused / total : 0, 1)} of requests`} tone={t.refused ? 'bad' : undefined} />
        <Stat label="Open cases" value={num(data.cases.open_total)} hint={`${data.cases.open_by_severity.critical ?? 0} critical · ${data.cases.open_by_severity.high ?? 0} high`} tone={data.cases.open_by_severity.critical ? 'bad' : undefined} />
        <Stat label="Risky clusters" value={num(data.clusters.length)} hint={data.clusters[0] ? `top risk ${score(data.clusters[0].risk)}` : 'none'} />
        <Stat label="Gateway" value={<span className={`health-${h.status}`}>{h.status === 'ok' ? 'Healthy' : 'Degraded'}</span>} hint={`policy v${h.policy_version} · up ${duration(h.uptime_s)}`} tone={h.status === 'ok' ? 'good' : 'bad'} />
      </div>

      <div className="grid-2-1">
        <Panel title="Traffic per minute" id="traffic">
          {times.length === 0 ? <Empty title="No traffic in the last hour." /> : <TimeChart label="Requests and refusals per minute" times={times} series={series} height={220} />}
        </Panel>
        <Panel title="Refused by rule" id="refused">
          {data.traffic.refused_by_rule.length === 0 ? (
            <Empty title="Nothing refused in the last hour." />
          ) : (
            <BarList items={data.traffic.refused_by_rule.slice(0, 8).map((r) => ({ label: r.rule, value: r.count }))} color="#d92d20" />
          )}
        </Panel>
      </div>

      <div className="grid-2-1">
        <Panel title="Riskiest clusters" id="clusters">
          {data.clusters.length === 0 ? (
            <Empty title="No cluster above the risk threshold." />
          ) : (
            <TableWrap label="Riskiest clusters">
              <table className="table dense">
                <thead>
                  <tr>
                    <th scope="col">Cluster</th>
                    <th scope="col" className="n">
                      Accounts
                    </th>
                    <th scope="col">Risk</th>
                    <th scope="col" className="hide-narrow">
                      Entity
                    </th>
                    <th scope="col">Recommended</th>
                    <th scope="col">Case</th>
                  </tr>
                </thead>
                <tbody>
                  {data.clusters.map((c) => (
                    <tr key={c.cluster_id}>
                      <td className="mono small">{c.cluster_id}</td>
                      <td className="n num">{num(c.accounts)}</td>
                      <td>
                        <span className="score-cell num">
                          <Meter value={c.risk} label={`Risk ${score(c.risk)}`} />
                          {score(c.risk)}
                        </span>
                      </td>
                      <td className="hide-narrow">{c.entity ?? <span className="muted">—</span>}</td>
                      <td>{c.recommended_action ? <span className={`badge decision decision-${c.recommended_action}`}>{words(c.recommended_action)}</span> : <span className="muted">—</span>}</td>
                      <td>{c.case_id ? <a href={href(`/cases/${encodeURIComponent(c.case_id)}`)}>Open</a> : <span className="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </Panel>
        <Panel title="Open cases by severity" id="severity">
          <ul className="sev-bars">
            {SEVERITIES.map((s) => {
              const n = data.cases.open_by_severity[s] ?? 0;
              const max = Math.max(1, ...SEVERITIES.map((x) => data.cases.open_by_severity[x] ?? 0));
              return (
                <li key={s}>
                  <a href={href('/cases', { severity: s })} className="sev-bar-label">
                    <SeverityBadge severity={s} />
                  </a>
                  <span className="barlist-track" aria-hidden="true">
                    <span className={`barlist-fill fill-${s}`} style={{ width: `${(n / max) * 100}%` }} />
                  </span>
                  <span className="num sev-bar-n">{n}</span>
                </li>
              );
            })}
          </ul>
          <h3 className="subhead">Newest open</h3>
          {data.cases.recent.length === 0 ? (
            <p className="muted small">No open case.</p>
          ) : (
            <ul className="recent">
              {data.cases.recent.map((c) => (
                <li key={c.case_id}>
                  <SeverityBadge severity={c.severity} />
                  <a href={href(`/cases/${encodeURIComponent(c.case_id)}`)}>{c.title}</a>
                  <span className="muted small num">{ago(c.created_at)}</span>
                </li>
              ))}
            </ul>
          )}
        </Panel>
      </div>

      <Panel title="Gateway health" id="health">
        <div className="health-grid">
          <HealthItem label="Status" ok={h.status === 'ok'} value={h.status === 'ok' ? 'OK' : 'Degraded'} />
          <HealthItem label="Store" ok={h.store === 'ok'} value={h.store === 'ok' ? 'OK' : 'Error'} />
          {h.detection.workers_pending !== undefined ? (
            <HealthItem label="Detection workers" ok={h.detection.workers_pending !== null && h.detection.workers_pending < 10_000} value={h.detection.workers_pending === null ? 'no reading yet' : `${num(h.detection.workers_pending)} events behind`} />
          ) : (
            <HealthItem label="Online detection" ok={h.detection.online} value={h.detection.online ? (h.detection.last_evaluated_at ? `on · last run ${ago(h.detection.last_evaluated_at)}` : 'on') : 'off'} />
          )}
          <HealthItem label="Outbox backlog" ok={h.outbox_backlog < 1000} value={num(h.outbox_backlog)} />
          <HealthItem label="Profile" ok value={h.profile} />
          <HealthItem label="Policy" ok value={`version ${h.policy_version}`} />
          <HealthItem label="Uptime" ok value={duration(h.uptime_s)} />
        </div>
      </Panel>
    </>
  );
}

function HealthItem({ label, ok, value }: { label: string; ok: boolean; value: string }) {
  return (
    <div className="health-item">
      <span className={`dot ${ok ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />
      <span className="health-label">{label}</span>
      <span className="health-value">
        {value}
        {!ok && <span className="sr-only"> (needs attention)</span>}
      </span>
    </div>
  );
}

