/**
 * Scale context for `warden analyze` (issue 5): DuckDB (`@duckdb/node-api`, in process)
 * computing the per-account aggregate features that SQL can express, over the same events file,
 * written to a Parquet file (one row per account). Prints what it computes, its wall time, its
 * peak memory and the ratio to Warden's `analyze()` on the same world.
 *
 *   node --import tsx bench/duckdb-aggregates.ts --dir DIR [--threads 2] [--memory 4GB]
 *        [--analyze-seconds S [--analyze-cpu-seconds C]]
 *
 * Warden's time comes from `--analyze-seconds`, else from DIR/detection-scale.json, which
 * `bench/detection-scale.ts` writes after each run. The comparison is not like for like: DuckDB
 * computes only the per-account aggregates below, in a columnar engine over all threads it is
 * given; analyze also scores every account against its detectors, links accounts through shared
 * attributes into clusters and writes the verdicts, on one JavaScript thread.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { TASKS } from '../src/core/index.js';
import { ownRss } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    threads: { type: 'string', default: '2' },
    memory: { type: 'string', default: '4GB' },
    'analyze-seconds': { type: 'string' },
    'analyze-cpu-seconds': { type: 'string' },
  },
});
if (!values.dir) throw new Error('give --dir DIR: a world directory with events.jsonl (or .gz)');
const dir = values.dir;
const eventsFile = existsSync(join(dir, 'events.jsonl')) ? join(dir, 'events.jsonl') : join(dir, 'events.jsonl.gz');
const outFile = join(dir, 'duckdb-aggregates.parquet');
const sqlStr = (s: string): string => `'${s.replaceAll("'", "''")}'`;

// Do the events carry gateway features? Look at the first line.
const firstLine = (): string => {
  const fd = openSync(eventsFile, 'r');
  const buf = Buffer.alloc(256 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  return buf.subarray(0, n).toString('utf8').split('\n')[0] ?? '';
};
const withFeatures = !eventsFile.endsWith('.gz') && /"features":\{/.test(firstLine());

/** Interchange fields read (docs/interchange.md); explicit, so no schema sampling pass. */
const featureStruct =
  'STRUCT(in_chars BIGINT, est_tokens BIGINT, sys_hash VARCHAR, tpl VARCHAR, simhash VARCHAR, lang VARCHAR, cot DOUBLE, code DOUBLE, tool_trace DOUBLE, bench DOUBLE, probe DOUBLE, task VARCHAR, words BIGINT)';
const columns = [
  `event_id: 'VARCHAR'`,
  `ts: 'TIMESTAMP'`,
  `account_id: 'VARCHAR'`,
  `key_id: 'VARCHAR'`,
  `ip: 'VARCHAR'`,
  `user_agent: 'VARCHAR'`,
  `country: 'VARCHAR'`,
  `asn: 'BIGINT'`,
  `end_user_id: 'VARCHAR'`,
  `model: 'VARCHAR'`,
  `stream: 'BOOLEAN'`,
  `status: 'BIGINT'`,
  `input_tokens: 'BIGINT'`,
  `output_tokens: 'BIGINT'`,
  `latency_ms: 'BIGINT'`,
  `turns: 'BIGINT'`,
  `tools: 'BIGINT'`,
  ...(withFeatures ? [`features: '${featureStruct}'`] : []),
].join(', ');

const taskCol = (t: string): string => `task_${t.replace(/[^a-z0-9]/g, '_')}`;
/** What is computed, per account: [column, SQL, description]. */
const aggregates: [string, string, string][] = [
  ['requests', 'count(*)', 'requests'],
  ['first_ts / last_ts', 'min(ts), max(ts)', 'first and last request'],
  ['active_days', 'count(DISTINCT date_trunc(\'day\', ts))', 'distinct UTC days with a request'],
  ['input_tokens / output_tokens', 'sum(input_tokens), sum(output_tokens)', 'tokens in and out'],
  ['mean_input / mean_output', 'avg(input_tokens), avg(output_tokens)', 'mean tokens per request'],
  ['out_in_ratio', 'sum(output_tokens) / nullif(sum(input_tokens), 0)', 'output/input token ratio'],
  ['ips / asns / countries / user_agents / keys / models / end_users', 'count(DISTINCT …) each', 'distinct values of each attribute'],
  ['top_country_share', 'max count per country / requests', 'share of the most used country'],
  ['error_rate / stream_share', 'avg(status <> 200), avg(stream)', 'share of failed and of streamed requests'],
  ['mean_latency_ms', 'avg(latency_ms)', 'mean latency'],
  ['mean_turns / mean_tools', 'avg(turns), avg(tools)', 'conversation shape'],
  ['hour_of_week', 'histogram(isodow(ts)*24 + hour(ts)) as a 168-slot list', 'hour-of-week histogram (UTC)'],
  ['hours_active / night_share', 'count(DISTINCT hour of week), share in 00–05 UTC', 'how spread the activity is'],
  ['gap_mean_s / gap_sd_s / gap_median_s / gap_min_s / gap_cv / burst_share', 'lag(ts) OVER (PARTITION BY account_id ORDER BY ts)', 'inter-arrival stats (burst: gap < 2 s)'],
  ...(withFeatures
    ? ([
        ['mean_cot / mean_code / mean_tool_trace / mean_bench / mean_probe', 'avg(features.x)', 'prompt-feature score means'],
        ['mean_in_chars / mean_est_tokens / mean_words', 'avg(features.x)', 'prompt size means'],
        ['templates / simhashes / system_prompts / langs', 'count(DISTINCT features.x)', 'distinct templates, near-duplicate hashes, system prompts, languages'],
        ['top_template_share', 'max count per features.tpl / requests', 'share of the most used template'],
        [`${TASKS.map(taskCol).join(' / ')}`, 'avg(features.task = …)', 'share of each task class'],
      ] as [string, string, string][])
    : []),
];

const sql = `
COPY (
WITH ev AS (
  SELECT * FROM read_json(${sqlStr(eventsFile)}, format = 'newline_delimited', columns = {${columns}})
),
gaps AS (
  SELECT account_id, epoch_ms(ts) - epoch_ms(lag(ts) OVER (PARTITION BY account_id ORDER BY ts)) AS gap_ms FROM ev
),
gap_stats AS (
  SELECT account_id, avg(gap_ms) / 1000 AS gap_mean_s, stddev_samp(gap_ms) / 1000 AS gap_sd_s,
         median(gap_ms) / 1000 AS gap_median_s, min(gap_ms) / 1000 AS gap_min_s,
         stddev_samp(gap_ms) / nullif(avg(gap_ms), 0) AS gap_cv, avg((gap_ms < 2000)::INT) AS burst_share
  FROM gaps WHERE gap_ms IS NOT NULL GROUP BY account_id
),
how AS (
  SELECT account_id, (isodow(ts) - 1) * 24 + hour(ts) AS h, count(*) AS n FROM ev GROUP BY ALL
),
how_stats AS (
  SELECT account_id, list_transform(range(168), i -> coalesce(map_from_entries(list({'k': h, 'v': n}))[i], 0)) AS hour_of_week,
         count(*) AS hours_active
  FROM how GROUP BY account_id
),
top_country AS (
  SELECT account_id, max(n) AS n FROM (SELECT account_id, country, count(*) AS n FROM ev GROUP BY ALL) GROUP BY account_id
),
${withFeatures ? `top_tpl AS (
  SELECT account_id, max(n) AS n FROM (SELECT account_id, features.tpl AS tpl, count(*) AS n FROM ev GROUP BY ALL) GROUP BY account_id
),` : ''}
base AS (
  SELECT account_id,
    count(*) AS requests, min(ts) AS first_ts, max(ts) AS last_ts,
    count(DISTINCT date_trunc('day', ts)) AS active_days,
    sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    avg(input_tokens) AS mean_input, avg(output_tokens) AS mean_output,
    sum(output_tokens) / nullif(sum(input_tokens), 0) AS out_in_ratio,
    count(DISTINCT ip) AS ips, count(DISTINCT asn) AS asns, count(DISTINCT country) AS countries,
    count(DISTINCT user_agent) AS user_agents, count(DISTINCT key_id) AS keys, count(DISTINCT model) AS models,
    count(DISTINCT end_user_id) AS end_users,
    avg((status <> 200)::INT) AS error_rate, avg(stream::INT) AS stream_share, avg(latency_ms) AS mean_latency_ms,
    avg(turns) AS mean_turns, avg(tools) AS mean_tools,
    avg((hour(ts) < 6)::INT) AS night_share
    ${
      withFeatures
        ? `,
    avg(features.cot) AS mean_cot, avg(features.code) AS mean_code, avg(features.tool_trace) AS mean_tool_trace,
    avg(features.bench) AS mean_bench, avg(features.probe) AS mean_probe,
    avg(features.in_chars) AS mean_in_chars, avg(features.est_tokens) AS mean_est_tokens, avg(features.words) AS mean_words,
    count(DISTINCT features.tpl) AS templates, count(DISTINCT features.simhash) AS simhashes,
    count(DISTINCT features.sys_hash) AS system_prompts, count(DISTINCT features.lang) AS langs,
    ${TASKS.map((t) => `avg((features.task = '${t}')::INT) AS ${taskCol(t)}`).join(', ')}`
        : ''
    }
  FROM ev GROUP BY account_id
)
SELECT b.*, h.hour_of_week, h.hours_active, tc.n / b.requests AS top_country_share,
  ${withFeatures ? 'tt.n / b.requests AS top_template_share,' : ''}
  g.gap_mean_s, g.gap_sd_s, g.gap_median_s, g.gap_min_s, g.gap_cv, g.burst_share
FROM base b
JOIN how_stats h USING (account_id)
JOIN top_country tc USING (account_id)
${withFeatures ? 'JOIN top_tpl tt USING (account_id)' : ''}
LEFT JOIN gap_stats g USING (account_id)
) TO ${sqlStr(outFile)} (FORMAT parquet)`;

const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

console.log(`DuckDB per-account aggregates over ${eventsFile} (${mb(statSync(eventsFile).size)}), ${withFeatures ? 'events carry gateway features' : 'no gateway features on the first event: the feature columns are left out'}`);
console.log(`threads ${values.threads}, memory_limit ${values.memory}; output one Parquet row per account: ${outFile}`);
console.log('computes, per account:');
for (const [col, expr, what] of aggregates) console.log(`  ${col.padEnd(66)} ${what}  [${expr}]`);

const rssBefore = ownRss();
const c0 = process.cpuUsage();
const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:', { threads: values.threads!, memory_limit: values.memory!, preserve_insertion_order: 'false' });
const con = await instance.connect();
rmSync(outFile, { force: true });
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, ownRss().now)), 250);
await con.run(sql);
const s = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
const cpuS = (cu.user + cu.system) / 1e6;
clearInterval(timer);
const check = await con.runAndReadAll(`SELECT count(*), sum(requests), sum(ips), avg(out_in_ratio) FROM read_parquet(${sqlStr(outFile)})`);
const [accounts, requests] = check.getRows()[0]!.map(Number) as [number, number];
con.closeSync();
console.log(`\nDuckDB: ${s.toFixed(1)} s wall (${fmt(requests / s)} events/s), ${cpuS.toFixed(1)} s CPU over its threads, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; `);
console.log(`  ${fmt(accounts)} accounts, ${fmt(requests)} requests; peak RSS ${mb(peak)} sampled every 250 ms (process VmHWM ${mb(ownRss().hwm)}; ${mb(rssBefore.now)} before DuckDB); Parquet ${mb(statSync(outFile).size)}`);

let analyzeS = values['analyze-seconds'] ? Number(values['analyze-seconds']) : NaN;
let analyzeCpu = values['analyze-cpu-seconds'] ? Number(values['analyze-cpu-seconds']) : NaN;
let from = '--analyze-seconds';
const stamp = join(dir, 'detection-scale.json');
if (Number.isNaN(analyzeS) && existsSync(stamp)) {
  const j = JSON.parse(readFileSync(stamp, 'utf8')) as { analyze_seconds: number; analyze_cpu_seconds?: number; finished_at: string; load_average: number[] };
  analyzeS = j.analyze_seconds;
  analyzeCpu = j.analyze_cpu_seconds ?? NaN;
  from = `${stamp} (run finished ${j.finished_at}, load average then ${j.load_average.map((x) => x.toFixed(1)).join(' ')})`;
}
if (Number.isNaN(analyzeS)) console.log('Warden analyze: no time given (--analyze-seconds S, or run bench/detection-scale.ts on this directory first)');
else {
  console.log(`Warden analyze: ${analyzeS.toFixed(1)} s wall (from ${from}); analyze / DuckDB wall = ${(analyzeS / s).toFixed(1)}×`);
  if (!Number.isNaN(analyzeCpu)) console.log(`  CPU: analyze ${analyzeCpu.toFixed(1)} s / DuckDB ${cpuS.toFixed(1)} s = ${(analyzeCpu / cpuS).toFixed(1)}×`);
}
