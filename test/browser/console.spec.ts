/**
 * The analyst console in Chromium, on a demo-like world: a benign customer, a refused request
 * from a restricted region, and the intermediary campaign (four accounts sharing one card and
 * one device, sweeping chain-of-thought prompts) that online detection turns into a case.
 * An analyst opens the case, sees its linkage graph, blocks the cluster through the UI, and the
 * official Anthropic SDK with one of the cluster's keys is then refused. A viewer sees no act
 * button and the server refuses the viewer's direct POST. axe-core checks every page; each page
 * is screenshotted into docs/.
 *
 * Every page is served under `Content-Security-Policy: default-src 'self'` (added here to the
 * document response if the server sends none), and any CSP violation fails the test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, type Harness } from '../e2e/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DOCS = path.join(ROOT, 'docs');
const AXE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const COT_SYSTEM = 'Think carefully and write out your complete chain of reasoning before giving the answer. Do not skip steps.';
const USERS = {
  analyst: { username: 'ana.analyst', password: 'analyst-password-0001', role: 'analyst' },
  viewer: { username: 'vic.viewer', password: 'viewer-password-00001', role: 'viewer' },
  admin: { username: 'ada.admin', password: 'admin-password-000001', role: 'admin' },
} as const;

interface GraphJson {
  nodes: { id: string }[];
  edges: { id: string }[];
}

describe('the analyst console', () => {
  let h: Harness;
  let browser: Browser;
  let campaign: { caseId: string; accounts: { id: string; key: string }[]; cluster: string };
  const violations: string[] = [];

  const adminFetch = async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${h.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${h.server.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
  };

  /** A context whose documents carry a strict CSP, with violations and page errors recorded. */
  const newContext = async (viewport = { width: 1280, height: 800 }): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, baseURL: h.url });
    await ctx.route('**/console/**', async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const res = await route.fetch();
      const headers = res.headers();
      if (!headers['content-security-policy']) headers['content-security-policy'] = "default-src 'self'";
      await route.fulfill({ response: res, headers });
    });
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
    return { ctx, page };
  };

  const signIn = async (page: Page, who: keyof typeof USERS) => {
    await page.goto('/console/');
    await page.getByLabel('Username').fill(USERS[who].username);
    await page.getByLabel('Password').fill(USERS[who].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  };

  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

  const axe = async (page: Page, label: string) => {
    await page.evaluate(AXE);
    // A string, not a function: the test project has no DOM types.
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`)) as { id: string; impact: string; help: string; targets: string[] }[];
    const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `${label}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
  };

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(DOCS, `console-${name}.png`) });

  beforeAll(async () => {
    // The console under test is the one in this tree: build it (a few seconds) into dist/console-ui.
    await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
    h = await startHarness();
    for (const u of Object.values(USERS)) {
      const r = await adminFetch('POST', '/admin/v1/users', u);
      expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
    }
    const sdk = (key: string, ip?: string) => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, ...(ip ? { defaultHeaders: { 'x-forwarded-for': ip } } : {}) });

    // An ordinary customer, and one request of theirs from a restricted region.
    const harbor = await h.customer({ org: { name: 'Harbor Analytics GmbH', email_domain: 'harbor-analytics.example' } });
    for (let i = 0; i < 12; i++) await sdk(harbor.key, '91.0.0.1').messages.create({ model: 'claude-sonnet-4-6', max_tokens: 60, messages: [{ role: 'user', content: `Summarize the benefits of unit tests, take ${i}.` }] });
    await sdk(harbor.key, '77.88.8.8').messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] }).catch(() => undefined);

    // The intermediary campaign.
    const org = (await adminFetch<{ org_id: string }>('POST', '/admin/v1/orgs', { name: 'Harborline Trading Pte Ltd', declared_country: 'SG', verification: 'email', email_domain: 'harborline-trading.example' })).json;
    const accounts: { id: string; key: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const a = (await adminFetch<{ account_id: string }>('POST', '/admin/v1/accounts', { org_id: org.org_id, payment_fingerprint: 'pf_7c1e90aa', device_fingerprint: 'df_a03f11', email_domain: 'mailbox.example' })).json;
      const k = (await adminFetch<{ key: string }>('POST', '/admin/v1/keys', { account_id: a.account_id })).json;
      accounts.push({ id: a.account_id, key: k.key });
    }
    const clients = accounts.map((a, i) => sdk(a.key, `47.74.0.${10 + i}`));
    for (let round = 0; round < 60; round++) {
      await Promise.all(clients.map((c, i) => c.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, system: COT_SYSTEM, messages: [{ role: 'user', content: `A farmer has ${round * 4 + i} sheep and buys 5 more each week. How many sheep after 3 weeks?\n\nLet's think step by step.` }] })));
    }
    await h.server.detection!.tick();

    // Other detectors' findings, so the lists hold more than one case (fictional, in documentation ranges).
    const qy = (await adminFetch<{ org_id: string }>('POST', '/admin/v1/orgs', { name: 'Qingyun Data Services Ltd', declared_country: 'HK', verification: 'email', email_domain: 'qingyun-data.example' })).json;
    const relay: string[] = [];
    for (let i = 0; i < 3; i++) relay.push((await adminFetch<{ account_id: string }>('POST', '/admin/v1/accounts', { org_id: qy.org_id, email_domain: 'qingyun-data.example', signup_ip: `203.0.113.${20 + i}` })).json.account_id);
    const at = new Date().toISOString();
    const ingest = await adminFetch('POST', '/admin/v1/alerts', {
      alerts: [
        {
          alert_id: 'alert_relay_qingyun',
          detector: 'region_evasion',
          subjects: { accounts: relay, entity: 'example-conglomerate' },
          score: 0.93,
          labels: ['region_evasion'],
          evidence: [
            { code: 'relay_network', detail: 'All traffic from AS64500, a hosting network operated for example-conglomerate.', weight: 0.55 },
            { code: 'shared_signup_prefix', detail: 'Three accounts signed up from 203.0.113.0/24 within 10 minutes.', weight: 0.3 },
          ],
          indicators: { ip_ranges: ['203.0.113.0/24'], asns: [64500], email_domains: ['qingyun-data.example'] },
          created_at: at,
        },
        {
          alert_id: 'alert_key_sharing_harbor',
          detector: 'key_sharing',
          subjects: { accounts: [harbor.accountId] },
          score: 0.32,
          evidence: [{ code: 'many_end_users', detail: 'One key used by 40 distinct end-user ids in an hour.', weight: 0.32 }],
          created_at: at,
        },
      ],
    });
    expect(ingest.status, JSON.stringify(ingest.json)).toBe(201);
    const cases = (await adminFetch<{ cases: { case_id: string; accounts: string[]; clusters: string[] }[] }>('GET', '/admin/v1/cases')).json.cases;
    const found = cases.find((c) => accounts.every((a) => c.accounts.includes(a.id)));
    expect(found, JSON.stringify(cases)).toBeTruthy();
    campaign = { caseId: found!.case_id, accounts, cluster: found!.clusters[0] ?? '' };

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('signs an analyst in and shows the live overview, with no CSP violation', async () => {
    const { ctx, page } = await newContext();
    await page.goto('/console/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await axe(page, 'sign-in');
    await shot(page, 'sign-in');

    await page.getByLabel('Username').fill(USERS.analyst.username);
    await page.getByLabel('Password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();

    await signIn(page, 'analyst');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // The live stream delivers the overview; the traffic we sent is counted in it.
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    await page.locator('.stat').filter({ has: page.locator('.stat-label', { hasText: /^Requests$/ }) }).locator('.stat-value').filter({ hasNotText: /^0$/ }).waitFor();
    await axe(page, 'overview');
    await shot(page, 'overview');
    expect(violations).toEqual([]);
    await ctx.close();
  });

  it('opens the campaign case with the graph the API describes, and blocks its cluster; the SDK is then refused', async () => {
    const { ctx, page } = await newContext();
    await signIn(page, 'analyst');
    await nav(page, 'Cases');
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    await page.locator('table').waitFor();
    await axe(page, 'cases');
    await shot(page, 'cases');

    await page.locator(`a[href="#/cases/${campaign.caseId}"]`).first().click();
    const graph = (await adminFetch<GraphJson>('GET', `/admin/v1/cases/${campaign.caseId}/graph`)).json;
    expect(graph.nodes.length).toBeGreaterThanOrEqual(campaign.accounts.length);
    const expected = `${graph.nodes.length} ${graph.nodes.length === 1 ? 'node' : 'nodes'} · ${graph.edges.length} ${graph.edges.length === 1 ? 'link' : 'links'}`;
    await expect.poll(() => page.getByTestId('graph-count').textContent(), { timeout: 15_000 }).toBe(expected);
    // Cytoscape drew into its canvas.
    await expect.poll(() => page.locator('[data-testid="graph-canvas"] canvas').count()).toBeGreaterThan(0);

    // Before the block, a campaign key is served.
    const key = campaign.accounts[0]!.key;
    const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': '47.74.0.10' } });
    await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'still there?' }] });

    // The confirmation dialog: Escape closes it, and confirming needs a reason.
    await page.getByRole('button', { name: 'Take action…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Take action on this case' });
    await dialog.waitFor();
    // Focus starts inside the dialog, Escape closes it, and focus returns to the button that opened it.
    expect(await page.evaluate("document.activeElement?.closest('dialog') !== null")).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Take action…');
    await page.getByRole('button', { name: 'Take action…' }).click();
    await dialog.getByRole('radio', { name: /block/i }).check();
    await dialog.getByLabel('Apply to').selectOption('cluster');
    const confirm = dialog.getByRole('button', { name: 'Confirm block' });
    expect(await confirm.isDisabled()).toBe(true);
    await axe(page, 'act dialog');
    await dialog.getByLabel(/Reason/).fill('Four linked accounts sweeping chain-of-thought prompts from hosting addresses (browser test).');
    await confirm.click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#actions').getByText(`cluster ${campaign.cluster}`).waitFor();

    const refused = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'one more?' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((refused as { status: number }).status).toBe(403);

    // The recorded action names the signed-in analyst.
    const actions = (await adminFetch<{ actions: { subject: { id: string }; author: string; decision: string }[] }>('GET', '/admin/v1/actions')).json.actions;
    expect(actions.find((a) => a.subject.id === campaign.cluster && a.decision === 'block')?.author).toBe(USERS.analyst.username);

    await page.reload();
    await page.getByTestId('graph-count').waitFor();
    await page.waitForTimeout(300); // let cytoscape's layout settle before the screenshot
    await axe(page, 'case');
    await shot(page, 'case');

    // A note, a disposition, and the reversal: the key is served again.
    await page.getByLabel('Add a note').fill('Card and device shared by all four; blocked pending appeal.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('#notes').getByText('blocked pending appeal').waitFor();
    await page.getByRole('button', { name: 'Dispose…' }).first().click();
    const dispose = page.getByRole('dialog', { name: 'Alert disposition' });
    await dispose.getByLabel('Verdict').selectOption('true_positive');
    await dispose.getByLabel(/Reason/).fill('Confirmed by the shared card and device.');
    await dispose.getByRole('button', { name: 'Save disposition' }).click();
    await page.locator('#alerts').getByText('true positive').first().waitFor();
    await page.locator('#actions').getByRole('button', { name: 'Reverse' }).click();
    const reverse = page.getByRole('dialog', { name: 'Reverse action' });
    await reverse.getByLabel(/Reason/).fill('Customer verified their business (browser test).');
    await reverse.getByRole('button', { name: 'Reverse action' }).click();
    await page.locator('#actions').getByText('reversed', { exact: true }).waitFor();
    const served = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'back?' }] });
    expect(served.type).toBe('message');
    expect(violations).toEqual([]);
    await ctx.close();
  });

  it('shows accounts, an account page, orgs and the policy page', async () => {
    const { ctx, page } = await newContext();
    await signIn(page, 'admin');
    await nav(page, 'Accounts');
    await page.getByRole('searchbox', { name: 'Search' }).fill(campaign.accounts[1]!.id);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`a[href="#/accounts/${campaign.accounts[1]!.id}"]`).first().waitFor();
    await axe(page, 'accounts');
    await page.locator(`a[href="#/accounts/${campaign.accounts[1]!.id}"]`).first().click();
    await page.getByRole('heading', { name: 'Risk' }).waitFor();
    await page.locator('#keys').getByText('active').first().waitFor();
    // Keys show their prefix, never a secret.
    expect(await page.content()).not.toContain(campaign.accounts[1]!.key);
    await page.waitForTimeout(200);
    await axe(page, 'account');
    await shot(page, 'account');

    await nav(page, 'Orgs');
    // The account page links to the same org: wait for the orgs page and click in its table.
    await page.getByRole('heading', { name: 'Orgs', level: 1 }).waitFor();
    await page.locator('table').getByRole('link', { name: 'Harborline Trading Pte Ltd' }).click();
    await page.getByRole('heading', { name: 'Harborline Trading Pte Ltd', level: 1 }).waitFor();
    await axe(page, 'org');

    await nav(page, 'Policy');
    const editor = page.getByLabel('Policy YAML');
    await expect.poll(() => editor.inputValue()).toContain('rules:');
    const active = await editor.inputValue();
    await editor.fill(`${active}\n  - id: broken\n    decide: nonsense\n`);
    await page.getByRole('button', { name: /Dry run/ }).click();
    await page.locator('#dry-run').getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await axe(page, 'policy with problems');
    // Blocking (instead of watching) unverified orgs on hosting networks changes the campaign's decisions.
    const stricter = active.replace(/(id: hosting-unverified[\s\S]*?decide: )monitor/, '$1block');
    expect(stricter).not.toBe(active);
    await editor.fill(stricter);
    await page.getByRole('button', { name: /Dry run/ }).click();
    await page.locator('#dry-run').getByText('would be decided differently').waitFor();
    await axe(page, 'policy');
    // Show the edited rule in the screenshot.
    await editor.evaluate((el: { value: string; scrollTop: number; scrollHeight: number }) => {
      const lines = el.value.split('\n');
      el.scrollTop = (lines.findIndex((l) => l.includes('id: hosting-unverified')) / lines.length) * el.scrollHeight - 60;
    });
    await shot(page, 'policy');

    // An admin applies a (harmless) edit after its dry run: a new active version, audited.
    const before = (await adminFetch('GET', '/admin/v1/policy')).json as { version: number };
    await editor.fill(`${active}\n# reviewed in the console\n`);
    await page.getByRole('button', { name: /Dry run/ }).click();
    await page.getByRole('button', { name: 'Apply as a new version…' }).click();
    await page.getByLabel(/^Reason/).fill('Browser test: apply after a dry run.');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await expect
      .poll(async () => ((await adminFetch('GET', '/admin/v1/policy')).json as { version: number; text: string }).version)
      .toBeGreaterThan(before.version);
    const after = (await adminFetch('GET', '/admin/v1/policy')).json as { text: string };
    expect(after.text).toContain('# reviewed in the console');
    expect(violations).toEqual([]);
    await ctx.close();
  });

  it('lets an admin create a console user who can then sign in, and issue and revoke an API key the SDK uses', async () => {
    const { ctx, page } = await newContext();
    await signIn(page, 'admin');
    await nav(page, 'Users');
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const table = page.getByRole('region', { name: 'Console users' });
    await table.getByText(USERS.analyst.username).waitFor();
    // An admin cannot delete themself: the button is disabled and the reason is on the page.
    expect(await page.getByRole('button', { name: `Delete ${USERS.admin.username}` }).isDisabled()).toBe(true);
    await page.getByText('You cannot delete yourself').waitFor();

    // Create an analyst with a generated password, which is shown once.
    await page.getByRole('button', { name: 'New user…' }).click();
    const create = page.getByRole('dialog', { name: 'New console user' });
    await create.getByLabel('Username').fill('nia.analyst');
    await create.getByLabel('Role').selectOption('analyst');
    await create.getByLabel('Password').fill('too-short');
    await create.getByText('At least 12 characters (9 now)').waitFor();
    expect(await create.getByRole('button', { name: 'Create user' }).isDisabled()).toBe(true);
    await create.getByRole('button', { name: 'Generate' }).click();
    const typed = await create.getByLabel('Password').inputValue();
    expect(typed.length).toBeGreaterThanOrEqual(12);
    await axe(page, 'new user dialog');
    await create.getByRole('button', { name: 'Create user' }).click();
    const shown = page.getByRole('dialog', { name: 'Password for nia.analyst' });
    await shown.getByText('Shown once.').waitFor();
    const password = await shown.getByLabel('Generated password').inputValue();
    expect(password).toBe(typed);
    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'hidden' });
    expect(await page.content()).not.toContain(password);
    await table.getByText('nia.analyst').waitFor();
    const users = (await adminFetch<{ users: { username: string; role: string }[] }>('GET', '/admin/v1/users')).json.users;
    expect(users.find((u) => u.username === 'nia.analyst')?.role).toBe('analyst');
    await axe(page, 'users');
    await shot(page, 'users');

    // The new analyst signs in with that password.
    const other = await newContext();
    await other.page.goto('/console/');
    await other.page.getByLabel('Username').fill('nia.analyst');
    await other.page.getByLabel('Password').fill(password);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await other.page.locator('.sidebar-user').textContent()).toContain('analyst');
    // Not an admin: no Users entry.
    expect(await other.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count()).toBe(0);
    await other.ctx.close();

    // Issue a key on an account page: shown once, then gone from the page.
    const account = campaign.accounts[0]!;
    await page.goto(`/console/#/accounts/${account.id}`);
    await page.getByRole('heading', { name: 'Risk' }).waitFor();
    const before = await page.locator('#keys li').count();
    await page.getByRole('button', { name: 'Issue key…' }).click();
    const issue = page.getByRole('dialog', { name: 'Issue an API key' });
    await issue.getByLabel(/^Name/).fill('browser-test');
    await issue.getByRole('button', { name: 'Issue key' }).click();
    const once = page.getByRole('dialog', { name: 'New API key' });
    await once.getByText('Shown once.').waitFor();
    const key = await once.getByLabel(/^Key /).inputValue();
    expect(key.length).toBeGreaterThan(20);
    await axe(page, 'new key dialog');
    await once.getByRole('button', { name: 'I have stored the key' }).click();
    await once.waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('#keys li').count()).toBe(before + 1);
    expect(await page.content()).not.toContain(key);

    const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': '47.74.0.10' } });
    const served = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'new key?' }] });
    expect(served.type).toBe('message');

    // Revoke it after confirming; the SDK is then refused as unauthenticated.
    const keys = (await adminFetch<{ keys: { key_id: string; name?: string; prefix: string }[] }>('GET', `/admin/v1/keys?account_id=${account.id}`)).json.keys;
    const issued = keys.find((k) => k.name === 'browser-test')!;
    expect(key.startsWith(issued.prefix)).toBe(true);
    await page.getByRole('button', { name: `Revoke key ${issued.prefix}…` }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke API key' });
    await axe(page, 'revoke key dialog');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await revoke.waitFor({ state: 'hidden' });
    await page.locator('#keys li').filter({ hasText: issued.key_id }).getByText('revoked', { exact: true }).waitFor();
    const refused = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'still?' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused as { status: number }).status).toBe(401);

    // Delete the new user after confirming: they can no longer sign in.
    await nav(page, 'Users');
    await page.getByRole('button', { name: 'Delete nia.analyst' }).click();
    const del = page.getByRole('dialog', { name: 'Delete console user' });
    await del.getByRole('button', { name: 'Delete nia.analyst' }).click();
    await del.waitFor({ state: 'hidden' });
    await expect.poll(() => table.getByText('nia.analyst').count()).toBe(0);
    const gone = await fetch(`${h.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nia.analyst', password }) });
    expect(gone.status).toBe(401);
    expect(violations).toEqual([]);
    await ctx.close();
  });

  it('hides the act controls from a viewer, and the server refuses a viewer’s direct POST', async () => {
    const { ctx, page } = await newContext();
    await signIn(page, 'viewer');
    await page.goto(`/console/#/cases/${campaign.caseId}`);
    await page.getByTestId('graph-count').waitFor();
    expect(await page.getByRole('button', { name: 'Take action…' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reverse' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Dispose/ }).count()).toBe(0);

    const session = await page.request.get('/console/api/session');
    const { csrf_token } = (await session.json()) as { csrf_token: string };
    const res = await page.request.post(`/admin/v1/cases/${campaign.caseId}/act`, {
      headers: { 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
      data: { action: 'block', reason: 'a viewer trying' },
    });
    expect(res.status()).toBe(403);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('forbidden');
    // Without the CSRF header the session's POST is refused as well.
    const noCsrf = await page.request.post(`/admin/v1/cases/${campaign.caseId}/notes`, { headers: { 'content-type': 'application/json' }, data: { text: 'hi' } });
    expect(noCsrf.status()).toBe(403);

    // A session that ends under the page sends the person back to sign in, saying why.
    await ctx.clearCookies();
    await nav(page, 'Cases');
    await page.getByRole('status').filter({ hasText: 'Session expired — sign in again.' }).waitFor();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await ctx.close();
  });

  it('works in a narrow (390 px) window', async () => {
    const { ctx, page } = await newContext({ width: 390, height: 844 });
    await signIn(page, 'analyst');
    await page.goto(`/console/#/cases/${campaign.caseId}`);
    await page.getByTestId('graph-count').waitFor();
    await page.waitForTimeout(300);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(1);
    await axe(page, 'narrow case');
    await shot(page, 'narrow');
    expect(violations).toEqual([]);
    await ctx.close();
  });
});
