import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../src/cli/sim-commands.js';
import { WardenConfig } from '../../src/cli/config.js';
import { loadScenario, simulate } from '../../src/sim/index.js';
import { openIpIntel } from '../../src/intel/index.js';
import { startHarness, waitForEvents, type Harness } from './harness.js';

// A simulated world replayed through a running gateway with the official SDKs: the online
// path sees the same traffic the batch path is judged on.
describe('simulate --replay through the gateway', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = mkdtempSync(path.join(os.tmpdir(), 'warden-replay-'));
    await simulate(loadScenario('demo'), dir, { sampler: openIpIntel({ ipv6: false }) });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates an account and key per simulated account and sends the events through the SDKs', async () => {
    const config = WardenConfig.parse({ data_dir: h.dataDir, gateway: { upstreams: { anthropic: { url: h.upstreamUrl }, openai: { url: h.upstreamUrl } } } });
    const r = await replay(config, dir, h.url, 200, 60, h.server.adminToken, new PassThrough());
    expect(r.sent).toBe(60);
    expect(r.ok + Object.entries(r.statuses).filter(([s]) => s !== '200').reduce((a, [, n]) => a + n, 0)).toBe(60);
    expect(r.ok).toBeGreaterThan(30);
    const events = await waitForEvents<{ ip?: string; country?: string }>(h, 'since=1970-01-01T00:00:00Z', 60);
    expect(events.length).toBeGreaterThanOrEqual(60);
    // Client addresses arrive through X-Forwarded-For from a trusted proxy and are resolved.
    expect(events.filter((e) => e.country).length).toBeGreaterThan(30);
  }, 180_000);
});
