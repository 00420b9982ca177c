// Rule tests of the seat policy (docs/policy.md): one per keyword and per
// precedence case, through the Harness (invariants and a snapshot round trip
// after every command).
import { describe, expect, it } from 'vitest';
import { explainCheckout, listPools, policyDryRun, policyView } from './queries.ts';
import { code, Harness } from './harness.test-support.ts';
import { parsePolicy } from '../../protocol/parse-policy.ts';

/** A harness with `seats` seats of cad 29 and sessions of the given users (session id = user name). */
function site(seats: number, ...users: string[]): Harness {
  const h = new Harness();
  h.install({ seats });
  for (const u of users) h.open(u);
  return h;
}

function message(r: ReturnType<Harness['checkout']>): string {
  return r.ok ? r.type : `${r.code}: ${r.message}`;
}

describe('include and exclude', () => {
  it('exclude refuses whom it names with POLICY_EXCLUDED quoting the rule and its line', () => {
    const h = site(5, 'dave', 'alice');
    h.policy('[groups]\ninterns = ["dave"]\n\n[[rules]]\nfeature = "cad"\nexclude = "group:interns"\n');
    expect(message(h.checkout('dave'))).toBe('POLICY_EXCLUDED: Policy rule "exclude cad for group interns (line 4)" refuses dave on dave-host.');
    expect(code(h.checkout('alice'))).toBe('granted');
  });

  it('an include list lets in only whom it names, and its refusal lists the include rules', () => {
    const h = site(5, 'alice', 'bob');
    h.policy('INCLUDE cad USER alice', 'flexlm-options');
    expect(code(h.checkout('alice'))).toBe('granted');
    expect(message(h.checkout('bob'))).toBe(
      'POLICY_EXCLUDED: bob on bob-host is not on the include list that decides who may use it: include cad for user alice (line 1).',
    );
  });

  it('exclude beats include when both name the same session', () => {
    const h = site(5, 'alice');
    h.policy('GROUP eng alice\nINCLUDE cad GROUP eng\nEXCLUDE cad USER alice', 'flexlm-options');
    expect(message(h.checkout('alice'))).toMatch(/^POLICY_EXCLUDED: Policy rule "exclude cad for user alice \(line 3\)"/);
  });

  it('INCLUDEALL and EXCLUDEALL cover every feature, and join the feature lists', () => {
    const h = site(5, 'root', 'bob', 'carol');
    h.install({ licenseId: 'K2', product: 'cam', seats: 5 });
    h.policy('INCLUDEALL USER root\nINCLUDE cam USER bob\nEXCLUDEALL USER carol', 'flexlm-options');
    expect(code(h.checkout('root', { feature: 'cam' }))).toBe('granted');
    expect(code(h.checkout('bob', { feature: 'cam' }))).toBe('granted');
    expect(code(h.checkout('bob'))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout('carol', { feature: 'cam' }))).toBe('POLICY_EXCLUDED');
  });

  it('rules match hosts, host groups (by name and by IP pattern), IP ranges and apps', () => {
    const h = new Harness();
    h.install({ seats: 9 });
    h.open('a', 'a', 'ws-1');
    h.open('b', 'b', 'ws-9', 'c-b', 'app', '10.7.0.3');
    h.open('c', 'c', 'laptop', 'c-c', 'app', '::ffff:192.168.1.20');
    h.open('d', 'd', 'ws-2', 'c-d', 'Stats');
    h.policy(
      '[host_groups]\nlab = ["ws-1", "10.7.0.0/16"]\n[[rules]]\nfeature = "cad"\nexclude = "host_group:lab"\n' +
        '[[rules]]\nfeature = "cad"\nexclude = "ip:192.168.1.*"\n[[rules]]\nfeature = "cad"\nexclude = "app:stats"\n',
    );
    expect(code(h.checkout('a'))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout('b'))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout('c'))).toBe('POLICY_EXCLUDED');
    expect(code(h.checkout('d'))).toBe('POLICY_EXCLUDED');
    h.open('e', 'e', 'ws-3', 'c-e', 'app', '10.8.0.1');
    expect(code(h.checkout('e'))).toBe('granted');
  });

  it('names compare case-insensitively unless the policy says case_sensitive', () => {
    const h = site(5, 'Alice');
    h.policy('[[rules]]\nfeature = "cad"\nexclude = "user:alice"\n');
    expect(code(h.checkout('Alice'))).toBe('POLICY_EXCLUDED');
    h.policy('case_sensitive = true\n[[rules]]\nfeature = "cad"\nexclude = "user:alice"\n');
    expect(code(h.checkout('Alice'))).toBe('granted');
  });

  it('a rule naming a version covers that pool only: another version still serves', () => {
    const h = site(1, 'bob');
    h.install({ licenseId: 'K30', version: '30', seats: 1 });
    h.policy('EXCLUDE cad:VERSION=29 USER bob', 'flexlm-options');
    const r = h.checkout('bob');
    expect(r.ok && r.type === 'granted' && r.lease.version).toBe('30');
  });

  it('in an authorized-user pool include and exclude apply, max does not', () => {
    const h = new Harness();
    h.install({ model: 'authorized-user', seats: 2 });
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice', 'bob'] });
    h.open('alice');
    h.open('bob');
    h.policy('EXCLUDE cad USER bob\nMAX 0 cad USER alice', 'flexlm-options');
    expect(code(h.checkout('alice'))).toBe('granted');
    expect(code(h.checkout('bob'))).toBe('POLICY_EXCLUDED');
  });
});

describe('max', () => {
  it('max for a user refuses the seat beyond it with POLICY_MAX naming the rule', () => {
    const h = site(5, 'bob');
    h.policy('MAX 1 cad USER bob', 'flexlm-options');
    expect(code(h.checkout('bob'))).toBe('granted');
    expect(message(h.checkout('bob'))).toBe('POLICY_MAX: Policy rule "max 1 of cad for user bob (line 1)" is reached for bob on bob-host.');
  });

  it("max for a group limits the group's total, not each member", () => {
    const h = site(5, 'alice', 'bob');
    h.policy('GROUP eng alice bob\nMAX 2 cad GROUP eng', 'flexlm-options');
    h.lease('alice');
    h.lease('bob');
    expect(code(h.checkout('alice'))).toBe('POLICY_MAX');
  });

  it('max per user limits each user apart ("max 2 per user")', () => {
    const h = site(9, 'alice', 'bob');
    h.policy('[[rules]]\nfeature = "cad"\nmax = 2\nper = "user"\n');
    h.lease('alice');
    h.lease('alice', { count: 1 });
    expect(message(h.checkout('alice'))).toBe('POLICY_MAX: Policy rule "max 2 of cad per user (line 1)" is reached for alice on alice-host.');
    expect(code(h.checkout('bob', { count: 2 }))).toBe('granted');
  });

  it('a max naming a user governs that user instead of the per-user max, before or after it in the file', () => {
    for (const text of ['MAX 1 cad USER ALL_USERS\nMAX 3 cad USER alice', 'MAX 3 cad USER alice\nMAX 1 cad USER ALL_USERS']) {
      const h = site(9, 'alice', 'bob');
      h.policy(text, 'flexlm-options');
      h.lease('alice', { count: 3 });
      expect(code(h.checkout('alice'))).toBe('POLICY_MAX');
      h.lease('bob');
      expect(code(h.checkout('bob'))).toBe('POLICY_MAX');
    }
  });

  it('max per group limits each group apart; a max naming a group governs it instead', () => {
    const h = site(9, 'alice', 'bob', 'carol');
    h.policy('GROUP eng alice bob\nGROUP ops carol\nMAX 1 cad GROUP ALL_GROUPS\nMAX 2 cad GROUP eng', 'flexlm-options');
    h.lease('alice');
    h.lease('bob');
    expect(code(h.checkout('alice'))).toBe('POLICY_MAX');
    h.lease('carol');
    expect(code(h.checkout('carol'))).toBe('POLICY_MAX');
  });

  it('every matching max applies at once, and max 0 shuts the principal out', () => {
    const h = site(9, 'alice');
    h.policy('GROUP eng alice\nMAX 5 cad GROUP eng\nMAX 1 cad USER alice\nMAX 0 cad HOST nowhere', 'flexlm-options');
    h.lease('alice');
    expect(code(h.checkout('alice'))).toBe('POLICY_MAX');
    h.open('x', 'x', 'nowhere');
    expect(code(h.checkout('x'))).toBe('POLICY_MAX');
  });

  it('a lingering seat counts toward max, and reclaiming it for the same user and host is allowed', () => {
    const h = new Harness();
    h.install({ seats: 5, lingerSeconds: 60 });
    h.open('bob');
    h.policy('MAX 1 cad USER bob', 'flexlm-options');
    const lease = h.lease('bob');
    h.checkin('bob', lease.leaseId);
    expect(code(h.checkout('bob'))).toBe('granted');
    expect(code(h.checkout('bob'))).toBe('POLICY_MAX');
  });

  it('a waiter at its max keeps its place and holds up nobody; it is served once it fits', () => {
    const h = site(1, 'x', 'alice', 'bob');
    const held = h.lease('x');
    h.checkout('alice', { wait: true, requestId: 'w-alice' });
    h.checkout('bob', { wait: true, requestId: 'w-bob' });
    h.policy('MAX 0 cad USER alice', 'flexlm-options');
    h.checkin('x', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ requestId: 'w-bob' }]);
    expect(h.state.pools.get('cad@29')?.queue.map((w) => w.requestId)).toEqual(['w-alice']);
  });
});

describe('reserve', () => {
  it("a reservation for alice holds the last seat against bob, and NO_SEATS says so; alice takes it", () => {
    const h = site(2, 'alice', 'bob');
    h.policy('RESERVE 1 cad USER alice', 'flexlm-options');
    expect(code(h.checkout('bob'))).toBe('granted');
    expect(message(h.checkout('bob'))).toBe(
      'NO_SEATS: No seat of cad for this checkout of 1: 1 of 2 seats are held and 1 more are reserved for others (reserve 1 of cad for user alice (line 1)).',
    );
    expect(listPools(h.state)[0]).toMatchObject({ seatsTotal: 2, seatsInUse: 1, seatsReservedIdle: 1 });
    const mine = h.lease('alice');
    expect(listPools(h.state)[0]).toMatchObject({ seatsInUse: 2, seatsReservedIdle: 0 });
    h.checkin('alice', mine.leaseId);
    expect(listPools(h.state)[0]).toMatchObject({ seatsInUse: 1, seatsReservedIdle: 1 });
    expect(code(h.checkout('bob'))).toBe('NO_SEATS');
  });

  it("a group's reservation serves any member, all of them together", () => {
    const h = site(3, 'alice', 'bob', 'zed');
    h.policy('GROUP eng alice bob\nRESERVE 2 cad GROUP eng', 'flexlm-options');
    h.lease('zed');
    expect(code(h.checkout('zed'))).toBe('NO_SEATS');
    h.lease('alice');
    h.lease('bob');
    expect(h.inUse()).toBe(3);
  });

  it('a member uses its reservation before unreserved seats, so others keep the unreserved ones', () => {
    const h = site(3, 'alice', 'bob');
    h.policy('RESERVE 1 cad USER alice', 'flexlm-options');
    h.lease('alice');
    h.lease('bob');
    expect(code(h.checkout('bob'))).toBe('granted');
  });

  it('a seat taken while others wait: a reservation holder behind the queue still gets its idle reserved seat', () => {
    const h = site(2, 'alice', 'bob', 'carol');
    h.policy('RESERVE 1 cad USER alice', 'flexlm-options');
    const b = h.lease('bob');
    expect(code(h.checkout('carol', { wait: true }))).toBe('queued');
    expect(code(h.checkout('alice'))).toBe('granted');
    h.checkin('bob', b.leaseId);
    expect(h.events('granted')).toHaveLength(1);
  });

  it('a reservation larger than the pool leaves nobody else a seat', () => {
    const h = site(2, 'alice', 'bob');
    h.policy('RESERVE 5 cad USER alice', 'flexlm-options');
    expect(code(h.checkout('bob'))).toBe('NO_SEATS');
    expect(listPools(h.state)[0]?.seatsReservedIdle).toBe(2);
  });
});

describe('priority', () => {
  it('a waiter of a higher priority goes ahead of lower ones, first come first served among equals', () => {
    const h = site(1, 'x', 'low1', 'low2', 'boss', 'boss2');
    const held = h.lease('x');
    h.policy('[[rules]]\nfeature = "cad"\npriority = 5\nfor = "user:boss"\n[[rules]]\nfeature = "cad"\npriority = 5\nfor = "user:boss2"\n');
    h.checkout('low1', { wait: true, requestId: 'w-low1' });
    h.checkout('low2', { wait: true, requestId: 'w-low2' });
    const boss = h.checkout('boss', { wait: true, requestId: 'w-boss' });
    expect(boss.ok && boss.type === 'queued' && boss.position).toBe(1);
    const boss2 = h.checkout('boss2', { wait: true, requestId: 'w-boss2' });
    expect(boss2.ok && boss2.type === 'queued' && boss2.position).toBe(2);
    expect(h.state.pools.get('cad@29')?.queue.map((w) => w.requestId)).toEqual(['w-boss', 'w-boss2', 'w-low1', 'w-low2']);
    h.checkin('x', held.leaseId);
    expect(h.events('granted').map((e) => (e.kind === 'granted' ? e.requestId : ''))).toEqual(['w-boss']);
  });
});

describe('settings', () => {
  it("lease_ttl_seconds_max shortens a lease's ttl at its grant and at every renewal; min lengthens it", () => {
    const h = site(5, 'a');
    h.policy('TIMEOUT cad 10', 'flexlm-options');
    const lease = h.lease('a', { leaseTtlMs: 30_000 });
    expect(lease.expiresAt).toBe(h.at + 10_000);
    h.at += 1_000;
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['a'], leaseTtlMs: 30_000 });
    expect(h.state.leases.get(lease.leaseId)?.deadlineMs).toBe(h.at + 10_000);
    h.policy('[[settings]]\nfeature = "cad"\nlease_ttl_seconds_min = 600\n');
    h.run({ type: 'renew', at: h.at, leaseIds: [lease.leaseId], sessionIds: [], leaseTtlMs: 30_000 });
    expect(h.state.leases.get(lease.leaseId)?.deadlineMs).toBe(h.at + 600_000);
    expect(h.state.sessions.get('a')?.deadlineMs).toBe(h.at + 600_000);
  });

  it("linger_seconds_max caps the key's linger but never lengthens it; the most specific entry decides", () => {
    const h = new Harness();
    h.install({ seats: 5, lingerSeconds: 60 });
    h.policy('[[settings]]\nfeature = "*"\nlinger_seconds_max = 500\n[[settings]]\nfeature = "cad"\nlinger_seconds_max = 10\n');
    expect(listPools(h.state)[0]?.lingerMs).toBe(10_000);
    h.policy('LINGER cad 500', 'flexlm-options');
    expect(listPools(h.state)[0]?.lingerMs).toBe(60_000);
  });
});

describe('changing the policy', () => {
  it('versions count up; expectedVersion refuses a change based on an older one', () => {
    const h = site(1);
    expect(h.policy('MAX 1 cad USER a', 'flexlm-options')).toMatchObject({ type: 'policy-set', version: 1 });
    expect(code(h.policy('MAX 2 cad USER a', 'flexlm-options', { expectedVersion: 0 }))).toBe('POLICY_VERSION_CONFLICT');
    expect(h.policy('MAX 2 cad USER a', 'flexlm-options', { expectedVersion: 1 })).toMatchObject({ version: 2 });
    expect(policyView(h.state)).toMatchObject({ version: 2, format: 'flexlm-options', text: 'MAX 2 cad USER a' });
  });

  it('existing leases keep their seats unless the change asks to revoke them; then the excluded and the newest beyond max go', () => {
    const h = site(9, 'dave', 'bob');
    const d = h.lease('dave');
    const b1 = h.lease('bob');
    const b2 = h.lease('bob');
    h.policy('EXCLUDE cad USER dave\nMAX 1 cad USER bob', 'flexlm-options');
    expect(h.state.leases.size).toBe(3);
    expect(h.events('revoked')).toEqual([]);
    const r = h.policy('EXCLUDE cad USER dave\nMAX 1 cad USER bob', 'flexlm-options', { revokeViolating: true });
    expect(r).toMatchObject({ revokedLeaseIds: [d.leaseId, b2.leaseId] });
    expect(h.events('revoked').map((e) => (e.kind === 'revoked' ? [e.leaseId, e.reason] : []))).toEqual([
      [d.leaseId, 'policy'],
      [b2.leaseId, 'policy'],
    ]);
    expect(h.state.leases.has(b1.leaseId)).toBe(true);
  });

  it('a dry run lists the leases the new policy would refuse and changes nothing', () => {
    const h = site(9, 'dave', 'bob');
    h.lease('dave');
    h.lease('bob');
    const b2 = h.lease('bob');
    const parsed = parsePolicy('flexlm-options', 'MAX 1 cad USER bob');
    if (!parsed.ok) throw new Error('parse');
    expect(policyDryRun(h.state, parsed.policy, 'flexlm-options', '')).toEqual([
      { leaseId: b2.leaseId, feature: 'cad', version: '29', user: 'bob', host: 'bob-host', lingering: false, code: 'POLICY_MAX', message: 'Policy rule "max 1 of cad for user bob (line 1)" is exceeded by bob on bob-host.' },
    ]);
    expect(policyView(h.state).version).toBe(0);
  });

  it('queued checkouts the new policy excludes leave their queues; the others stay', () => {
    const h = site(1, 'x', 'dave', 'erin');
    h.lease('x');
    h.checkout('dave', { wait: true, requestId: 'w-dave' });
    h.checkout('erin', { wait: true, requestId: 'w-erin' });
    expect(h.policy('EXCLUDE cad USER dave', 'flexlm-options')).toMatchObject({ dequeuedCount: 1 });
    expect(h.events('dequeued')).toMatchObject([{ requestId: 'w-dave', reason: 'policy-excluded' }]);
    expect(h.state.pools.get('cad@29')?.queue.map((w) => w.requestId)).toEqual(['w-erin']);
  });

  it('a new reservation does not take seats others hold: it fills as they are checked in', () => {
    const h = site(1, 'alice', 'bob');
    const b = h.lease('bob');
    h.policy('RESERVE 1 cad USER alice', 'flexlm-options');
    expect(h.state.leases.has(b.leaseId)).toBe(true);
    expect(listPools(h.state)[0]?.seatsReservedIdle).toBe(0);
    h.checkin('bob', b.leaseId);
    expect(code(h.checkout('bob'))).toBe('NO_SEATS');
    expect(code(h.checkout('alice'))).toBe('granted');
  });
});

describe('explain', () => {
  it('answers what a checkout would get and the rule that decides, changing nothing', () => {
    const h = site(2, 'alice', 'bob');
    h.policy('GROUP interns dave\nRESERVE 1 cad USER alice\nEXCLUDE cad GROUP interns\nMAX 1 cad USER ALL_USERS', 'flexlm-options');
    const before = h.state.appliedIndex;
    const q = { feature: 'cad', host: 'h', app: 'app', ip: '', count: 1 };
    expect(explainCheckout(h.state, { ...q, user: 'dave' })).toMatchObject({ decision: 'refused', code: 'POLICY_EXCLUDED', rules: ['exclude cad for group interns (line 3)'] });
    expect(explainCheckout(h.state, { ...q, user: 'alice' })).toMatchObject({
      decision: 'granted',
      rules: ['reserve 1 of cad for user alice (line 2)', 'max 1 of cad per user (line 4)'],
    });
    h.lease('bob');
    expect(explainCheckout(h.state, { ...q, user: 'bob' })).toMatchObject({ decision: 'refused', code: 'POLICY_MAX', rules: ['max 1 of cad per user (line 4)'] });
    expect(explainCheckout(h.state, { ...q, user: 'carol' })).toMatchObject({ decision: 'queued', queuePosition: 1 });
    expect(h.state.appliedIndex).toBe(before + 1);
  });
});
