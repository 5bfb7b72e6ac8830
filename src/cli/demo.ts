/**
 * `warden demo` (and `npm start`): the end-to-end demo on the embedded default. Starts the
 * simulated model upstream and the gateway, creates an org, an account and a key through the
 * admin API, sends traffic through the official SDKs, shows a refused request from a
 * restricted region, and prints what happened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { UsageEvent } from '../core/index.js';
import { startMockUpstream } from '../gateway/index.js';
import { WardenConfig } from './config.js';
import { createAdminClient } from './admin-client.js';
import { serve } from './serve.js';
import { createLogger } from './log.js';
import { generatePassword } from '../console/index.js';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DemoOptions {
  once: boolean;
  port: number;
  dataDir?: string;
  out: NodeJS.WritableStream;
  /** Run the scripted analyst's block on the campaign's case (default true); the browser tests block through the console instead. */
  analystBlock?: boolean;
}

export interface DemoResult {
  gatewayUrl: string;
  events: UsageEvent[];
  refusedStatus: number | undefined;
  campaign: CampaignOutcome;
  /** The console and the users the demo created (passwords generated per run). */
  console: { url: string; users: DemoConsoleUser[] };
}

export interface DemoConsoleUser {
  username: string;
  role: 'analyst' | 'viewer' | 'admin';
  password: string;
}

export interface CampaignOutcome {
  accounts: string[];
  caseId: string | null;
  /** HTTP status of a campaign key's request after the analyst's block. */
  afterBlockStatus: number | null;
  reportFile: string | null;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const say = (s = '') => opts.out.write(`${s}\n`);
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'warden-demo-'));
  const upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, latencyMs: 20 });
  const config = WardenConfig.parse({
    data_dir: dataDir,
    gateway: {
      listen: `127.0.0.1:${opts.port}`,
      upstreams: { anthropic: { url: upstream.url }, openai: { url: upstream.url } },
      // The demo stands behind a local load balancer, so X-Forwarded-For says where a client is.
      trusted_proxies: ['127.0.0.1', '::1'],
    },
    policy: { file: path.join(PACKAGE_ROOT, 'policies/demo.yaml') },
    intel: { custom_networks: DEMO_NETWORKS },
    watchlist: path.join(PACKAGE_ROOT, 'watchlists/demo.yaml'),
    log: { level: 'warn' },
  });
  const server = await serve(config, { log: createLogger('error', process.stderr as never) });
  const url = server.gateway.url;
  const stale = server.intel.warnings();
  say(`Warden demo\n===========\nsimulated model upstream  ${upstream.url}\nWarden gateway            ${url}\nstate (embedded SQLite)   ${dataDir}`);
  say(`intel sources             ${server.intel.sources().length} loaded${stale.length ? `; ${stale.length} older than 90 days (see \`warden intel sources\`)` : ''}\n`);
  // Clients are addressed through X-Forwarded-For (the demo trusts its local load balancer):
  // a German residential address for the customer, a Russian one for the restricted region.
  const pick = (n: number) => Math.floor(n / 3);
  const DEMO_CLIENT = server.intel.sampleAddress({ country: 'DE', network_type: 'residential' }, pick) ?? '91.0.0.1';

  const admin = createAdminClient(config, { url, token: server.adminToken });
  // Console users, one per role, with passwords generated for this run (shown at the end).
  const consoleUsers: DemoConsoleUser[] = [];
  for (const role of ['analyst', 'viewer', 'admin'] as const) {
    const user: DemoConsoleUser = { username: role, role, password: generatePassword() };
    await admin.call('POST', '/users', user);
    consoleUsers.push(user);
  }
  const org = await admin.call<{ org_id: string; screening: { status: string } | null }>('POST', '/orgs', {
    name: 'Harbor Analytics GmbH',
    email_domain: 'harbor-analytics.example',
    declared_country: 'DE',
    payment_country: 'DE',
    declared_use: 'internal',
    verification: 'business',
  });
  const account = await admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, email: 'dev@harbor-analytics.example', email_domain: 'harbor-analytics.example' });
  const key = await admin.call<{ key: string; key_id: string }>('POST', '/keys', { account_id: account.account_id, name: 'demo' });
  say(`1. Created org ${org.org_id} (screening: ${org.screening?.status ?? 'n/a'}), account ${account.account_id}, key ${key.key_id} (shown once).`);

  const fwd = (ip: string) => ({ 'x-forwarded-for': ip });
  const anthropic = new Anthropic({ apiKey: key.key, baseURL: url, maxRetries: 0, defaultHeaders: fwd(DEMO_CLIENT) });
  const openai = new OpenAI({ apiKey: key.key, baseURL: `${url}/v1`, maxRetries: 0, defaultHeaders: fwd(DEMO_CLIENT) });

  const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: [{ role: 'user', content: 'Summarize the benefits of unit tests in two sentences.' }], metadata: { user_id: 'end-user-42' } });
  say(`2. Anthropic SDK, messages.create → ${msg.usage.input_tokens} in / ${msg.usage.output_tokens} out tokens: "${firstText(msg.content).slice(0, 60)}…"`);

  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: [{ role: 'user', content: 'Write a haiku about code review.' }] });
  let streamed = 0;
  stream.on('text', (t) => (streamed += t.length));
  const final = await stream.finalMessage();
  say(`3. Anthropic SDK, streaming → ${streamed} characters streamed, ${final.usage.output_tokens} output tokens.`);

  const chunks: string[] = [];
  const oa = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Name three sorting algorithms.' }], user: 'end-user-7' });
  for await (const c of oa) chunks.push(c.choices[0]?.delta?.content ?? '');
  say(`4. OpenAI SDK, chat.completions streaming → ${chunks.length} chunks (the usage chunk Warden asked for was stripped).`);

  const resp = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Give one tip for writing clear commit messages.' });
  say(`5. OpenAI SDK, responses.create → ${resp.usage?.output_tokens ?? 0} output tokens.`);

  // A client in a restricted region, as the load balancer reports it.
  const restrictedIp = server.intel.sampleAddress({ country: 'RU', network_type: 'residential' }, pick) ?? '77.88.8.8';
  const blocked = new Anthropic({ apiKey: key.key, baseURL: url, maxRetries: 0, defaultHeaders: fwd(restrictedIp) });
  let refusedStatus: number | undefined;
  try {
    await blocked.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
    say('6. Restricted region: NOT refused (unexpected).');
  } catch (e) {
    const err = e as { status?: number; error?: { error?: { type?: string; message?: string } } };
    refusedStatus = err.status;
    say(`6. A request from ${restrictedIp} (a restricted region) → ${err.status} ${err.error?.error?.type}: "${err.error?.error?.message}"`);
  }

  // Wait until the events are in the store.
  let events: UsageEvent[] = [];
  for (let i = 0; i < 100; i++) {
    events = (await admin.call<{ events: UsageEvent[] }>('GET', `/events?account_id=${account.account_id}&limit=100`)).events;
    if (events.length >= 5) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  say('\nUsage events recorded (one per request; prompt features, no raw text):');
  say('  endpoint           stream status decision  rule                             in    out   country asn');
  for (const e of events.sort((a, b) => a.ts.localeCompare(b.ts))) {
    say(
      `  ${pad(e.endpoint ?? '', 18)} ${pad(String(e.stream ?? ''), 6)} ${pad(String(e.status ?? ''), 6)} ${pad(e.decision ?? '', 9)} ${pad(e.decision_rule ?? '', 32)} ${pad(String(e.input_tokens ?? '-'), 5)} ${pad(String(e.output_tokens ?? '-'), 5)} ${pad(e.country ?? '-', 7)} ${e.asn ?? '-'}`,
    );
  }

  const campaign = await intermediaryCampaign(url, admin, server, say, opts.analystBlock ?? true);
  say(`\nAdmin API: ${url}/admin/v1 (token in ${path.join(dataDir, 'admin-token')}); metrics: ${url}/metrics`);
  const consoleUrl = `${url}/console/`;
  say(`\nAnalyst console: ${consoleUrl}${campaign.caseId ? ` (the seed case: ${consoleUrl}cases/${campaign.caseId})` : ''}`);
  say('  Sign in as (passwords generated for this run, shown once):');
  for (const u of consoleUsers) say(`    ${pad(u.role, 8)} ${pad(u.username, 8)} ${u.password}`);

  const result: DemoResult = { gatewayUrl: url, events, refusedStatus, campaign, console: { url: consoleUrl, users: consoleUsers } };
  if (opts.once) {
    await server.close();
    await upstream.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    return result;
  }
  say('\nServing until Ctrl-C. Try:');
  say(`  curl -s ${url}/v1/messages -H 'x-api-key: ${key.key.slice(0, 12)}…' -H 'content-type: application/json' -d '{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}'`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await upstream.close();
  return result;
}

/**
 * The seed case in miniature: a shell company's accounts, linked by one payment card and one
 * device, send templated chain-of-thought sweeps through a hosting network. Online detection
 * links them into one cluster and opens a case; the analyst blocks the cluster; the block lands
 * at the gateway on the next request. (Fictional names; real networks.)
 */
async function intermediaryCampaign(url: string, admin: ReturnType<typeof createAdminClient>, server: Awaited<ReturnType<typeof serve>>, say: (s?: string) => void, analystBlock: boolean): Promise<CampaignOutcome> {
  say('\nThe seed case, in miniature');
  const org = await admin.call<{ org_id: string }>('POST', '/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email', email_domain: 'harborline-trading.example' });
  const accounts: { id: string; key: string }[] = [];
  for (let i = 0; i < 4; i++) {
    const a = await admin.call<{ account_id: string }>('POST', '/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' });
    const k = await admin.call<{ key: string }>('POST', '/keys', { account_id: a.account_id });
    accounts.push({ id: a.account_id, key: k.key });
  }
  say(`7. A shell company opens ${accounts.length} accounts (one card, one device between them) and sweeps chain-of-thought prompts from a hosting network…`);
  const clients = accounts.map((a, i) => new Anthropic({ apiKey: a.key, baseURL: url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': `47.74.0.${10 + i}` } }));
  const system = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
  for (let round = 0; round < 60; round++) {
    await Promise.all(
      clients.map((c, i) =>
        c.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, system, messages: [{ role: 'user', content: `A farmer has ${round * 4 + i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.` }] }),
      ),
    );
  }
  await server.detection?.tick();
  const cases = (await admin.call<{ cases: { case_id: string; title: string; severity: string; accounts: string[]; clusters: string[] }[] }>('GET', '/cases')).cases;
  const found = cases.find((c) => accounts.every((a) => c.accounts.includes(a.id)));
  if (!found) {
    say('8. Detection opened no case for them (see `warden cases list`).');
    return { accounts: accounts.map((a) => a.id), caseId: null, afterBlockStatus: null, reportFile: null };
  }
  say(`8. Online detection linked them into cluster ${found.clusters.join(', ')} and opened case ${found.case_id} (${found.severity}): "${found.title}"`);
  // The demo policy's enforcement: rules run in dry_run, so the case says what they would have done.
  const wouldAct = (await admin.call<{ timeline: { kind: string; by: string; detail: string }[] }>('GET', `/cases/${found.case_id}`)).timeline.find((t) => t.kind === 'would_act');
  if (wouldAct) say(`   Automatic enforcement (${wouldAct.by}, dry run): ${wouldAct.detail.replace(/\.$/, '')}. See \`warden policy enforcement-report\`.`);
  if (!analystBlock) {
    say('9. The case waits for an analyst in the console (the scripted block is off).');
    return { accounts: accounts.map((a) => a.id), caseId: found.case_id, afterBlockStatus: null, reportFile: null };
  }
  await admin.call('POST', `/cases/${found.case_id}/act`, { action: 'block', reason: 'Linked accounts harvesting chain-of-thought traces (demo analyst decision).' });
  let afterBlockStatus: number | null = null;
  try {
    await clients[0]!.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'One more?' }] });
    afterBlockStatus = 200;
  } catch (e) {
    afterBlockStatus = (e as { status?: number }).status ?? 0;
  }
  say(`9. An analyst blocks the case's cluster; the next request from one of its keys → ${afterBlockStatus}${afterBlockStatus === 403 ? ' (refused at the gateway)' : ''}.`);
  const reportRes = await fetch(`${url}/admin/v1/cases/${found.case_id}/report?format=html`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  let reportFile: string | null = null;
  if (reportRes.ok) {
    reportFile = path.join(os.tmpdir(), `warden-demo-report-${found.case_id}.html`);
    writeFileSync(reportFile, await reportRes.text());
    say(`10. The evidence report: ${reportFile}`);
  }
  return { accounts: accounts.map((a) => a.id), caseId: found.case_id, afterBlockStatus, reportFile };
}

function firstText(content: Anthropic.ContentBlock[]): string {
  for (const b of content) if (b.type === 'text') return b.text;
  return '';
}
const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));

/** The demo's fictional adversary infrastructure, in documentation ranges (RFC 5737, RFC 5398). */
export const DEMO_NETWORKS = [
  { label: 'adversary:example-conglomerate', cidrs: ['203.0.113.0/24'], asns: [64500], network_type: 'hosting' as const, country: 'SG' },
];
