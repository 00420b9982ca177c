// deploy/prometheus/alerts.yml and deploy/grafana/floe.json stay in step with
// the metrics: every metric they name exists with that name, and each alert
// the site needs is there. `promtool check rules` runs when promtool is
// installed; without it that one check is skipped and says so.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '../admin-app.ts';
import { ADMIN_TOKEN, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';
import { hashToken } from '../bearer-auth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const alerts = readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'floe.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
const promtool = spawnSync('promtool', ['--version']).status === 0;

let f: AdminFixture;
/** Every series name GET /metrics can give (histograms with their _bucket, _sum and _count). */
let exposed: Set<string>;
beforeAll(async () => {
  f = await openAdminFixture();
  const tlsStatus = () => ({ certFile: 'n1.crt', subject: 'CN=n1', issuer: 'CN=ca', notAfter: '2027-01-01T00:00:00.000Z', notAfterMs: Date.parse('2027-01-01'), nodeIds: ['n1'], loadedAtMs: 0 });
  const app = createAdminApp(f.node, { tokenSha256: [hashToken(ADMIN_TOKEN)], bodyBytesMax: 1024, metricsPerUser: true, tlsStatus });
  const text = await (await app.request('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  exposed = new Set();
  for (const m of text.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
    exposed.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(`${m[1]}${s}`);
  }
});
afterAll(() => f.close());

/** The metric names an expression reads (floe_, process_, nodejs_). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\b((?:floe|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!);
}

describe('the monitoring files', () => {
  it('alerts.yml has the alerts a site needs, each with an expression over metrics that exist, a duration and a severity', () => {
    const rules = alerts.split(/\n\s+- alert: /).slice(1);
    const names = rules.map((r) => r.split('\n')[0]!.trim());
    expect(names).toEqual(['FloeLicenseExpiringSoon', 'FloePoolNearlyFull', 'FloeDenialBurst', 'FloeNodeDown', 'FloeQuorumLost', 'FloeMemberLagging', 'FloeClockSkew', 'FloeCertificateExpiringSoon']);
    for (const rule of rules) {
      const expr = /\n\s+expr: (.+)\n/.exec(rule)?.[1] ?? '';
      expect(expr, rule).not.toBe('');
      expect(rule).toMatch(/\n\s+for: \d+[smh]\n/);
      expect(rule).toMatch(/\n\s+severity: (warning|critical)\n/);
      for (const m of metricsOf(expr)) expect(exposed, `${m} in ${expr}`).toContain(m);
    }
    expect(alerts).toContain('< 14 * 86400');
    expect(alerts).toMatch(/>= 0\.95\n\s+for: 10m/);
  });

  it('the Grafana dashboard reads only metrics that exist', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) {
      expect(metricsOf(e).length, e).toBeGreaterThan(0);
      for (const m of metricsOf(e)) expect(exposed, `${m} in ${e}`).toContain(m);
    }
  });

  it.skipIf(!promtool)('promtool check rules accepts alerts.yml (skipped: promtool is not installed here)', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(ROOT, 'deploy', 'prometheus', 'alerts.yml')], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
