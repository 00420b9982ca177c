import { describe, expect, it } from 'vitest';
import { licenseExpiries, memberStates, statusReport, type StatusAnswers } from './status-report.ts';

const NOW = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

const leaderView = {
  leaderId: 'n1',
  term: 4,
  reportedBy: { id: 'n1', role: 'leader' },
  nodes: [
    { id: 'n1', role: 'leader', commitIndex: 900, appliedIndex: 900 },
    { id: 'n2', role: 'follower', commitIndex: 900, appliedIndex: null, matchIndex: 900, recentActive: true },
    { id: 'n3', role: 'follower', commitIndex: 400, appliedIndex: null, matchIndex: 400, recentActive: false },
    { id: 'n4', role: 'follower', commitIndex: 880, appliedIndex: null, matchIndex: 880, recentActive: true },
  ],
};

describe('floe status report', () => {
  it('shows a member the leader has not heard from as DOWN with its lag, and a lagging one as behind by N', () => {
    expect(memberStates(leaderView)).toEqual([
      { id: 'n1', role: 'leader', state: 'caught-up', lagEntries: 0 },
      { id: 'n2', role: 'follower', state: 'caught-up', lagEntries: 0 },
      { id: 'n3', role: 'follower', state: 'down', lagEntries: 500 },
      { id: 'n4', role: 'follower', state: 'behind', lagEntries: 20 },
    ]);
    const { lines } = statusReport(answers(), NOW);
    expect(lines).toContain('  n2       follower   caught up');
    expect(lines).toContain('  n3       follower   DOWN: not heard from lately; behind by 500 entries');
    expect(lines).toContain('  n4       follower   behind by 20 entries');
  });

  it("takes GET /cluster's own member states where the node sends them, rejoining included", () => {
    const states: Record<string, [string | null, number | null]> = { n1: ['caught-up', 0], n2: ['caught-up', 0], n3: ['rejoining', 300], n4: [null, null] };
    const view = { ...leaderView, nodes: leaderView.nodes.map((n) => ({ ...n, state: states[n.id]![0], lagEntries: states[n.id]![1] })) };
    expect(memberStates(view).slice(2)).toEqual([
      { id: 'n3', role: 'follower', state: 'rejoining', lagEntries: 300 },
      { id: 'n4', role: 'follower', state: 'unknown', lagEntries: null },
    ]);
    const { lines } = statusReport(answers({ cluster: view }), NOW);
    expect(lines).toContain('  n3       follower   REJOINING: its storage lost entries; it catches up and does not vote yet; behind by 300 entries');
  });

  it('a follower says it cannot see the others instead of showing "match 0"', () => {
    const view = { leaderId: 'n1', term: 4, reportedBy: { id: 'n2', role: 'follower' }, nodes: [{ id: 'n1', role: 'leader', commitIndex: null, appliedIndex: null }, { id: 'n2', role: 'follower', commitIndex: 900, appliedIndex: 899 }] };
    expect(memberStates(view).map((m) => m.state)).toEqual(['unknown', 'behind']);
    expect(statusReport(answers({ cluster: view }), NOW).lines.join('\n')).toContain('n1       leader     state unknown here (ask the leader)');
  });

  it('gives each license its whole days to expiry, negative once expired, null when perpetual', () => {
    const l = (expiresAt: number | null) => ({ licenseId: 'L', status: 'active', features: ['f'], product: 'f', version: '1', model: 'concurrent', seats: 1, expiresAt, lockCodes: ['X'] });
    expect(licenseExpiries([l(NOW + 40.5 * DAY), l(NOW + 1), l(NOW - 1), l(NOW - 3 * DAY), l(null)], NOW).map((e) => e.daysLeft)).toEqual([40, 0, -1, -3, null]);
    const text = statusReport(answers({ licenses: [l(NOW + 40.5 * DAY), l(NOW - 3 * DAY), l(null)] }), NOW).lines.join('\n');
    expect(text).toContain('expires 2025-02-10 (in 40 days)');
    expect(text).toContain('expired 2024-12-29 (2 days ago)');
    expect(text).toContain('perpetual');
  });

  it('says when there is no leader and the figures are the node\'s own', () => {
    const noLeader = answers({ health: { nodeId: 'n2', role: 'pre-candidate', leaderId: '', term: 5, appliedIndex: 870 }, stale: { appliedIndex: 870, lagEntries: 0 } });
    const { lines, json } = statusReport(noLeader, NOW);
    expect(lines[0]).toBe('node n2: pre-candidate, term 5, applied index 870, leader NONE');
    expect(lines[1]).toMatch(/^ {2}NO LEADER: /);
    expect(json).toMatchObject({ leader: null, stale: true, staleAppliedIndex: 870 });
  });

  it('shows when the node\'s TLS certificate ends, and asks for a renewal three weeks before', () => {
    const h = answers().health;
    const soon = statusReport(answers({ health: { ...h, tls: { notAfter: '2030-01-10T00:00:00.000Z', daysLeft: 9.5, subject: 'CN=n1', caNotAfter: '2035-01-01T00:00:00.000Z' } } }), NOW).lines.join('\n');
    expect(soon).toContain('tls: certificate CN=n1 ends 2030-01-10 (in 9 days), its CA 2035-01-01 — RENEW IT');
    expect(statusReport(answers(), NOW).lines.join('\n')).toContain('tls: none (plain http and ws on this node)');
  });

  it('shows when each member\'s TLS certificate ends, and asks to renew one that ends within three weeks', () => {
    const cluster = {
      ...leaderView,
      nodes: [
        { ...leaderView.nodes[0]!, tlsNotAfter: new Date(NOW + 400 * DAY).toISOString() },
        { ...leaderView.nodes[1]!, tlsNotAfter: new Date(NOW + 10 * DAY + 3_600_000).toISOString() },
        { ...leaderView.nodes[2]!, tlsNotAfter: new Date(NOW - 2 * DAY).toISOString() },
        leaderView.nodes[3]!,
      ],
    };
    const lines = statusReport(answers({ cluster }), NOW).lines;
    expect(lines.find((l) => l.startsWith('  n1 '))).toMatch(/caught up; certificate ends 2026-02-05 \(in 400 days\)$/);
    expect(lines.find((l) => l.startsWith('  n2 '))).toMatch(/; certificate ends 2025-01-11 \(in 10 days\) — RENEW IT \(floe tls issue; systemctl reload floe\)$/);
    expect(lines.find((l) => l.startsWith('  n3 '))).toMatch(/; certificate ends 2024-12-30 \(EXPIRED 2 days ago\) — RENEW IT/);
    expect(lines.find((l) => l.startsWith('  n4 '))).not.toMatch(/certificate/);
  });
});

function answers(over: Partial<StatusAnswers> = {}): StatusAnswers {
  return {
    health: { nodeId: 'n1', role: 'leader', leaderId: 'n1', term: 4, appliedIndex: 900 },
    cluster: leaderView,
    licenses: [],
    pools: [],
    leases: [],
    stale: undefined,
    ...over,
  };
}
