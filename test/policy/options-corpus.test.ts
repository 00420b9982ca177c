// Realistic FlexNet options files (test/policy/corpus/: a byte-order mark,
// CRLF and CR line ends, comments, continuation lines, quoted names, ignored
// logging keywords) imported as they are, then checked against the decisions
// docs/policy.md promises, through the real seat pool.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOptionsFile } from '../../protocol/options-file.ts';
import { code, Harness } from '../../daemon/pool/harness.test-support.ts';
import { listPools } from '../../daemon/pool/queries.ts';

const CORPUS = join(import.meta.dirname, 'corpus');

function load(name: string): string {
  return readFileSync(join(CORPUS, name), 'utf8');
}

/** A pool of `feature` with `seats` seats and the corpus file `name` as the policy. */
function siteWith(name: string, seats: Record<string, number>): Harness {
  const h = new Harness();
  let k = 0;
  for (const [feature, n] of Object.entries(seats)) h.install({ licenseId: `K${++k}`, product: feature, version: '1', seats: n, lingerSeconds: 600 });
  h.policy(load(name), 'flexlm-options');
  return h;
}

let sessions = 0;
function session(h: Harness, user: string, host = 'ws-1', app = 'app', ip = ''): string {
  const id = `s${++sessions}`;
  h.open(id, user, host, `c-${id}`, app, ip);
  return id;
}

describe('the options-file corpus', () => {
  it('every file parses: warnings only for the logging keywords, each rule at its line', () => {
    const adsk = parseOptionsFile(load('adskflex.opt'));
    if (!adsk.ok) throw new Error(JSON.stringify(adsk.errors));
    expect(adsk.warnings.map((w) => [w.line, w.code])).toEqual([
      [4, 'POLICY_IGNORED'],
      [5, 'POLICY_IGNORED'],
    ]);
    expect(adsk.policy.groups).toEqual([
      ['Structural', ['jsmith', 'mchen', 'pwong', 'ARAO']],
      ['Interns', ['intern01', 'intern02']],
    ]);
    expect(adsk.policy.rules.map((r) => [r.kind, r.line])).toEqual([
      ['reserve', 13],
      ['max', 14],
      ['exclude', 15],
    ]);
    for (const name of ['mlm.opt', 'eda.opt']) {
      const r = parseOptionsFile(load(name));
      expect(r.ok ? r.warnings : r.errors).toEqual([]);
    }
  });

  it('adskflex.opt: the Structural reservation holds seats against others, interns get one, the plot room none, idle seats are reclaimed within the TIMEOUTALL', () => {
    const F = '87545ACD_2024_0F';
    const h = siteWith('adskflex.opt', { [F]: 3 });
    const other = session(h, 'kpatel');
    expect(code(h.checkout(other, { feature: F }))).toBe('granted');
    // Two of the three seats are reserved for Structural (names compare case-insensitively: arao is ARAO).
    expect(code(h.checkout(other, { feature: F }))).toBe('NO_SEATS');
    expect(listPools(h.state)[0]).toMatchObject({ seatsInUse: 1, seatsReservedIdle: 2 });
    expect(code(h.checkout(session(h, 'arao'), { feature: F }))).toBe('granted');
    expect(code(h.checkout(session(h, 'JSmith'), { feature: F }))).toBe('granted');
    const h2 = siteWith('adskflex.opt', { [F]: 10 });
    const intern = session(h2, 'intern01');
    expect(code(h2.checkout(intern, { feature: F }))).toBe('granted');
    expect(code(h2.checkout(session(h2, 'intern02'), { feature: F }))).toBe('POLICY_MAX');
    expect(code(h2.checkout(session(h2, 'kpatel', 'plot-02'), { feature: F }))).toBe('POLICY_EXCLUDED');
    const lease = h2.lease(session(h2, 'kpatel'), { feature: F, leaseTtlMs: 30_000 });
    expect(lease.expiresAt - h2.at).toBe(30_000);
  });

  it('mlm.opt: include lists per feature, max 1 per user with 2 for alice, a reservation for carol, linger capped at the key', () => {
    const h = siteWith('mlm.opt', { MATLAB: 10, Simulink: 1 });
    const dave = session(h, 'Dave');
    expect(code(h.checkout(dave, { feature: 'MATLAB' }))).toBe('granted');
    expect(code(h.checkout(dave, { feature: 'MATLAB' }))).toBe('POLICY_MAX');
    expect(code(h.checkout(dave, { feature: 'Simulink' }))).toBe('POLICY_EXCLUDED');
    const alice = session(h, 'alice');
    h.lease(alice, { feature: 'MATLAB' });
    h.lease(alice, { feature: 'MATLAB' });
    expect(code(h.checkout(alice, { feature: 'MATLAB' }))).toBe('POLICY_MAX');
    expect(code(h.checkout(session(h, 'eve'), { feature: 'MATLAB' }))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout(session(h, 'bob'), { feature: 'Simulink' }))).toBe('NO_SEATS');
    expect(code(h.checkout(session(h, 'carol'), { feature: 'Simulink' }))).toBe('granted');
    expect(listPools(h.state).find((p) => p.feature === 'MATLAB')?.lingerMs).toBe(300_000);
  });

  it('eda.opt: only the 10.20 network, not its quarantine subnet, not the sandbox project; max 3 per the quoted host', () => {
    const h = siteWith('eda.opt', { synth: 10 });
    expect(code(h.checkout(session(h, 'u', 'ws', 'app', '10.20.1.5'), { feature: 'synth' }))).toBe('granted');
    expect(code(h.checkout(session(h, 'u', 'ws', 'app', '10.21.1.5'), { feature: 'synth' }))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout(session(h, 'u', 'ws', 'app', '10.20.99.7'), { feature: 'synth' }))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout(session(h, 'u', 'ws', 'sandbox', '10.20.1.5'), { feature: 'synth' }))).toBe('POLICY_EXCLUDED');
    const farm = session(h, 'ci', 'build farm 1', 'app', '10.20.3.3');
    for (let i = 0; i < 3; i++) h.lease(farm, { feature: 'synth' });
    expect(code(h.checkout(farm, { feature: 'synth' }))).toBe('POLICY_MAX');
  });
});
