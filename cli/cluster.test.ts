// floe cluster add|remove|status against a scripted admin API: which
// requests each sends, what it prints, its exit codes.
import { afterEach, describe, expect, it } from 'vitest';
import { floe } from './cli-harness.test-support.ts';
import { run as cluster } from './cluster.ts';
import { scriptedAdminApi, stopScriptedAdminApis } from './scripted-admin-api.test-support.ts';

afterEach(stopScriptedAdminApis);

const KEY = 'A'.repeat(43);
const health = (nodeId: string, role: string, leaderId: string) => [200, { status: 'ok', nodeId, role, leaderId, term: 3, appliedIndex: 20 }] as [number, unknown];
const view = {
  leaderId: 'n2',
  term: 3,
  reportedBy: { id: 'n2', role: 'leader' },
  nodes: [
    { id: 'n1', role: 'follower', commitIndex: 20, appliedIndex: null, matchIndex: 20, recentActive: true },
    { id: 'n2', role: 'leader', commitIndex: 20, appliedIndex: 20 },
    { id: 'n3', role: 'follower', commitIndex: 0, appliedIndex: null, matchIndex: 3, recentActive: false },
    { id: 'n4', role: 'follower', commitIndex: 0, appliedIndex: null, matchIndex: 12, recentActive: true },
  ],
};
const add = ['add', '--id', 'n4', '--peer-url', 'ws://127.0.0.1:7604/raft', '--public-key', KEY, '--token', 't'];

describe('floe cluster', () => {
  it('add through a follower fails at once with UNAVAILABLE naming the leader (exit 3), and sends no change', async () => {
    const api = await scriptedAdminApi([health('n1', 'follower', 'n2')]);
    const r = await floe(cluster, ...add, '--admin', api.url);
    expect(r.exit).toBe(3);
    expect(r.stderr).toMatch(/^UNAVAILABLE: n1 at http:\/\/127\.0\.0\.1:\d+ is a follower; only the leader changes the membership, and n2 leads \(leader: n2\)/);
    expect(api.seen).toEqual(['GET /api/v1/health']);
  });

  it('add through the leader prints the members with their states, and the cluster view as JSON on the last line', async () => {
    const api = await scriptedAdminApi([health('n2', 'leader', 'n2'), [201, view]]);
    const r = await floe(cluster, ...add, '--admin', api.url);
    expect(r.exit).toBe(0);
    expect(api.seen).toEqual(['GET /api/v1/health', 'POST /api/v1/cluster/members']);
    expect(r.stdout).toContain('members (as the leader n2 sees them):\n');
    expect(r.stdout).toContain('  n3       follower   DOWN: not heard from lately; behind by 17 entries\n');
    expect(r.stdout).toContain('  n4       follower   behind by 8 entries\n');
    expect(JSON.parse(r.last)).toEqual(view);
  });

  it('add asks again while the new member catches up as a learner, saying so on stderr, then prints the members', async () => {
    const catchingUp: [number, unknown] = [503, { error: { code: 'MEMBER_CATCHING_UP', message: 'n4 is a learner (it receives the log and counts toward no quorum) and holds 3 of the 20 entries it needs before it may vote' } }];
    const api = await scriptedAdminApi([health('n2', 'leader', 'n2'), catchingUp, [201, view]]);
    const r = await floe(cluster, ...add, '--admin', api.url);
    expect(r.exit).toBe(0);
    expect(api.seen).toEqual(['GET /api/v1/health', 'POST /api/v1/cluster/members', 'POST /api/v1/cluster/members']);
    expect(r.stderr).toContain('n4 is a learner (it receives the log and counts toward no quorum) and holds 3 of the 20 entries it needs before it may vote; asking again\n');
    expect(JSON.parse(r.last)).toEqual(view);
  });

  it('add with --wait-seconds 0 gives up at the first MEMBER_CATCHING_UP: exit 3, the member left a learner', async () => {
    const catchingUp: [number, unknown] = [503, { error: { code: 'MEMBER_CATCHING_UP', message: 'n4 is a learner and holds 0 of the 20 entries it needs before it may vote' } }];
    const api = await scriptedAdminApi([health('n2', 'leader', 'n2'), catchingUp]);
    const r = await floe(cluster, ...add, '--admin', api.url, '--wait-seconds', '0');
    expect(r.exit).toBe(3);
    expect(r.stderr).toMatch(/^MEMBER_CATCHING_UP: n4 is a learner and holds 0 of the 20 entries/);
    expect(api.seen).toEqual(['GET /api/v1/health', 'POST /api/v1/cluster/members']);
  });

  it('remove on a node that hears no leader yet waits for one (UNAVAILABLE is sent again), then removes', async () => {
    const unavailable: [number, unknown] = [503, { error: { code: 'UNAVAILABLE', message: 'NOT_LEADER: no leader; retry' } }];
    const api = await scriptedAdminApi([health('n2', 'pre-candidate', ''), unavailable, [200, view]]);
    const r = await floe(cluster, 'remove', '--id', 'n3', '--admin', api.url, '--token', 't', '--json');
    expect(r.exit).toBe(0);
    expect(api.seen).toEqual(['GET /api/v1/health', 'DELETE /api/v1/cluster/members/n3', 'DELETE /api/v1/cluster/members/n3']);
    expect(JSON.parse(r.stdout)).toEqual(view);
  });

  it('status through a follower says whose view it is; a missing --public-key is a usage error (exit 2) and sends nothing', async () => {
    const followerView = { leaderId: 'n2', term: 3, reportedBy: { id: 'n1', role: 'follower' }, nodes: [{ id: 'n1', role: 'follower', commitIndex: 20, appliedIndex: 20 }, { id: 'n2', role: 'leader', commitIndex: null, appliedIndex: null }] };
    const api = await scriptedAdminApi([[200, followerView]]);
    const r = await floe(cluster, 'status', '--admin', api.url, '--token', 't');
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain('members (as n1, not the leader, sees them; leader n2):\n  n1       follower   caught up\n  n2       leader     state unknown here (ask the leader)\n');
    const bad = await floe(cluster, 'add', '--id', 'n4', '--peer-url', 'ws://127.0.0.1:7604/raft', '--admin', api.url, '--token', 't');
    expect(bad.exit).toBe(2);
    expect(bad.stderr).toMatch(/^BAD_REQUEST: add needs --id, --peer-url and --public-key/);
    expect(api.seen).toEqual(['GET /api/v1/cluster']);
  });
});
