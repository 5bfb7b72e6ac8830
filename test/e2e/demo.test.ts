import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';

// `npm start` is the main job: the demo must do what it prints, end to end.
describe('the demo (warden demo --once)', () => {
  it('serves the SDKs, refuses a restricted region, and turns the campaign into a case whose block lands', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const r = await runDemo({ once: true, port: 0, out });
    expect(r.events.filter((e) => e.status === 200).length).toBeGreaterThanOrEqual(4);
    expect(r.refusedStatus).toBe(403);
    expect(r.campaign.caseId, text).toBeTruthy();
    expect(r.campaign.afterBlockStatus).toBe(403);
    expect(r.campaign.reportFile).toBeTruthy();
    expect(text).toMatch(/opened case case_/);
    // The console's users, one per role, with their generated passwords printed once at the end.
    expect(r.console.url).toBe(`${r.gatewayUrl}/console/`);
    expect(r.console.users.map((u) => u.role)).toEqual(['analyst', 'viewer', 'admin']);
    expect(text).toContain(`Analyst console: ${r.console.url}`);
    for (const u of r.console.users) {
      expect(u.password).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(text).toContain(u.password);
    }
  }, 180_000);
});
