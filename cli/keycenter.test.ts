import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { entitle, floe, removeTempDirs, site, tempDir } from './cli-harness.test-support.ts';
import { run as keycenter } from './keycenter.ts';
import { run as license } from './license.ts';
import { parseVendorPublicKey, verifyLicenseKey } from '../protocol/index.ts';

afterEach(removeTempDirs);

describe('floe keycenter', () => {
  it('init prints the vendor public key last; pubkey prints the same; a second init is refused', async () => {
    const { kc, pub } = await site();
    expect(pub).toMatch(/^ed25519:[A-Za-z0-9_-]{43}$/);
    expect((await floe(keycenter, 'pubkey', '--dir', kc)).last).toBe(pub);
    const again = await floe(keycenter, 'init', '--dir', kc);
    expect(again.exit).not.toBe(0);
    expect(again.stderr).toMatch(/^ALREADY_INITIALIZED: /);
    expect((await floe(keycenter, 'pubkey', '--dir', kc)).last).toBe(pub);
  });

  it('entitle prints one authorization code per line, one per bundle component', async () => {
    const { kc } = await site();
    const codes = await entitle(kc, '--component', 'base', '--component', 'regression', '--component', 'amos');
    expect(codes).toHaveLength(3);
    for (const c of codes) expect(c).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  });

  it('entitle states how many named users an authorized-user code covers', async () => {
    const { kc } = await site();
    const r = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'stats', '--version', '29', '--model', 'authorized-user', '--seats', '25');
    expect(r.exit).toBe(0);
    expect(r.stderr).toContain('covers 25 named users');
    expect((await floe(keycenter, 'list', '--dir', kc)).stdout).toContain('covers 25 named users');
  });

  it('entitle with --expires makes a temporary code ending after that day; --days too', async () => {
    const { kc } = await site();
    const [code] = await entitle(kc, '--expires', '2099-12-31', '--json');
    const doc = JSON.parse(code!) as { entitlements: { expiresAt: number }[] };
    expect(doc.entitlements[0]?.expiresAt).toBe(Date.UTC(2100, 0, 1));
    const [byDays] = await entitle(kc, '--days', '30', '--json');
    const end = (JSON.parse(byDays!) as { entitlements: { expiresAt: number }[] }).entitlements[0]!.expiresAt;
    expect(Math.abs(end - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
  });

  it('entitle --borrow --borrow-hours 72 makes a code whose key allows borrowing for 72 h; without --borrow the key says not borrowable', async () => {
    const { kc, pub, locks } = await site();
    const borrow = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'cad', '--version', '7', '--model', 'concurrent', '--seats', '5', '--borrow', '--borrow-hours', '72');
    expect(borrow.stderr).toContain('borrowable up to 72 h (3 days)');
    const key = await floe(keycenter, 'activate', '--dir', kc, '--code', borrow.last, '--lock-code', locks[0]!);
    expect(key.stdout).toContain('borrowable up to 72 h (3 days)');
    const verdict = verifyLicenseKey(key.last, { vendorKeys: [parseVendorPublicKey(pub)!], nowMs: Date.now(), lockCode: locks[0]! });
    expect(verdict.ok && verdict.license).toMatchObject({ borrowAllowed: true, borrowHoursMax: 72 });
    const byDefault = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'cad', '--version', '7', '--model', 'concurrent', '--seats', '5', '--borrow');
    expect(byDefault.stderr).toContain('borrowable up to 168 h (7 days)');
    const plain = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'cad', '--version', '7', '--model', 'concurrent', '--seats', '5');
    expect(plain.stderr).toContain('not borrowable');
    const hoursAlone = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'cad', '--version', '7', '--model', 'concurrent', '--seats', '5', '--borrow-hours', '72');
    expect([hoursAlone.exit, hoursAlone.stderr]).toEqual([2, expect.stringContaining('--borrow-hours goes with --borrow')]);
    const tooLong = await floe(keycenter, 'entitle', '--dir', kc, '--product', 'cad', '--version', '7', '--model', 'concurrent', '--seats', '5', '--borrow', '--borrow-hours', '9000');
    expect([tooLong.exit, tooLong.stderr]).toEqual([1, expect.stringMatching(/^BAD_REQUEST: borrow hours must be a whole number from 1 to 8784/)]);
  });

  it('entitle refuses bad input with BAD_REQUEST, exit 2, and records nothing', async () => {
    const { kc } = await site();
    const base = ['entitle', '--dir', kc, '--product', 'stats', '--version', '29', '--model', 'concurrent', '--seats', '10'];
    for (const bad of [
      [...base.slice(0, -2)],
      [...base.slice(0, -1), 'ten'],
      [...base.slice(0, -1), '0'],
      [...base, '--expires', '2024-02-30'],
      [...base, '--expires', '2001-01-01'],
      [...base, '--days', '3', '--expires', '2099-01-01'],
      [...base.slice(0, 7), 'floating', '--seats', '3'],
      [...base, '--bogus'],
    ]) {
      const r = await floe(keycenter, ...bad);
      expect(r.exit, bad.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/^BAD_REQUEST: /);
    }
    expect((await floe(keycenter, 'list', '--dir', kc, '--json')).last).toBe('{"entitlements":[],"keys":[]}');
  });

  it('a key-center command on a directory without one answers NOT_INITIALIZED and creates nothing', async () => {
    const dir = join(tempDir(), 'none');
    for (const sub of ['pubkey', 'list']) {
      const r = await floe(keycenter, sub, '--dir', dir);
      expect(r.exit).toBe(1);
      expect(r.stderr).toMatch(/^NOT_INITIALIZED: /);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('activate refuses a duplicated lock code, a typo and a wrong count, and writes nothing', async () => {
    const { kc, locks } = await site();
    const [code] = await entitle(kc);
    const l = locks[0]!;
    const typo = l.slice(0, -1) + (l.endsWith('0') ? '1' : '0');
    const cases: [string[], string][] = [
      [['--lock-code', l, '--lock-code', locks[1]!, '--lock-code', l], 'DUPLICATE_LOCK_CODE'],
      [['--lock-code', l, '--lock-code', locks[1]!], 'LOCK_CODE_COUNT'],
      [[], 'LOCK_CODE_COUNT'],
      [['--lock-code', typo], 'LOCK_CODE_TYPO'],
    ];
    for (const [args, expected] of cases) {
      const r = await floe(keycenter, 'activate', '--dir', kc, '--code', code!, ...args);
      expect(r.exit).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${expected}: `));
    }
    const swapped = `${code!.slice(1, 2)}${code!.slice(0, 1)}${code!.slice(2)}`;
    if (swapped !== code) {
      const r = await floe(keycenter, 'activate', '--dir', kc, '--code', swapped, '--lock-code', l);
      expect(r.stderr).toMatch(/^AUTH_CODE_TYPO: /);
    }
    expect((JSON.parse((await floe(keycenter, 'list', '--dir', kc, '--json')).last) as { keys: unknown[] }).keys).toEqual([]);
  });

  it('list --by-host groups issued keys by host: its lock codes and description', async () => {
    const { kc, locks } = await site();
    const codes = await entitle(kc, '--component', 'a', '--component', 'b', '--component', 'c');
    await floe(keycenter, 'activate', '--dir', kc, '--code', codes[0]!, '--lock-code', locks[0]!, '--host-description', 'Minneapolis');
    await floe(keycenter, 'activate', '--dir', kc, '--code', codes[1]!, '--lock-code', locks[1]!, '--host-description', 'Chicago');
    await floe(keycenter, 'activate', '--dir', kc, '--code', codes[2]!, '--lock-code', locks[0]!, '--host-description', 'Minneapolis');
    const r = await floe(keycenter, 'list', '--dir', kc, '--by-host', '--json');
    const doc = JSON.parse(r.last) as { hosts: { hostDescription: string; keys: { component: string }[] }[] };
    expect(doc.hosts.map((h) => [h.hostDescription, h.keys.map((k) => k.component)])).toEqual([
      ['Chicago', ['b']],
      ['Minneapolis', ['a', 'c']],
    ]);
    expect((await floe(keycenter, 'list', '--dir', kc, '--by-host')).stdout).toMatch(/^Chicago \[[0-9A-Z-]{35}\]: 1 key, 1 active\n/);
  });

  it('rehost prints a key for the new lock codes that supersedes the old one; list shows the chain', async () => {
    const { kc, pub, locks, root } = await site();
    const [code] = await entitle(kc, '--order', 'PO-1');
    const first = await floe(keycenter, 'activate', '--dir', kc, '--code', code!, '--lock-code', locks[0]!, '--lock-code', locks[1]!, '--lock-code', locks[2]!, '--json');
    const old = JSON.parse(first.last) as { licenseId: string };
    const moved = await floe(keycenter, 'rehost', '--dir', kc, '--license', old.licenseId, '--lock-code', locks[0]!, '--lock-code', locks[1]!, '--lock-code', locks[3]!, '--host-description', 'after the disk died');
    expect(moved.exit).toBe(0);
    expect(moved.stdout).toContain(`supersedes ${old.licenseId}`);
    const check = await floe(license, 'check', '--key', moved.last, '--vendor-key', pub, '--data-dir', join(root, 'n4'), '--json');
    expect(check.exit).toBe(0);
    expect(JSON.parse(check.last)).toMatchObject({ ok: true, license: { supersedes: old.licenseId, seats: 10, orderNumber: 'PO-1' } });
    const listed = (await floe(keycenter, 'list', '--dir', kc)).stdout;
    expect(listed).toContain(`${old.licenseId}  stats 29, 10 seats, code ${code}`);
    expect(listed).toMatch(new RegExp(`superseded, superseded by ${moved.stdout.split('  ')[0]}`));
    const again = await floe(keycenter, 'rehost', '--dir', kc, '--license', old.licenseId, '--lock-code', locks[3]!);
    expect(again.exit).toBe(1);
    expect(again.stderr).toMatch(/^ALREADY_SUPERSEDED: .*LIC-/);
    const unknown = await floe(keycenter, 'rehost', '--dir', kc, '--license', 'LIC-NOPE', '--lock-code', locks[3]!);
    expect(unknown.stderr).toMatch(/^LICENSE_NOT_FOUND: /);
  });

  it('vendor staff create an account and an order; the contacts\' welcome mail lands in KC/outbox/', async () => {
    const { kc, root } = await site();
    expect((await floe(keycenter, 'account', 'create', '--dir', kc, '--site', 'S-100', '--company', 'Acme Analytics')).last).toBe('S-100');
    const added = await floe(keycenter, 'order', 'add', '--dir', kc, '--site', 'S-100', '--order', 'CO-1', '--po', 'PO-9', '--contact', 'Ada Lovelace <ada@example.com>', '--line', 'product=stats,version=29,model=concurrent,quantity=10', '--line', 'product=suite,version=29,model=authorized-user,quantity=5,components=base+amos,expires=2099-12-31');
    expect(added.exit, added.stderr).toBe(0);
    expect(added.last).toMatch(/^ORD-/);
    expect(added.stdout).toContain('line 2 LN-');
    expect(added.stderr).toContain('2 mails delivered (.eml files in');
    const outbox = readdirSync(join(kc, 'outbox'));
    expect(outbox).toHaveLength(2);
    expect(outbox.map((f) => readFileSync(join(kc, 'outbox', f), 'utf8')).join('')).toContain('/set-password/');
    const orderFile = join(root, 'order.json');
    writeFileSync(orderFile, JSON.stringify({ customerOrderNumber: 'CO-2', contacts: [{ email: 'ada@example.com', name: 'Ada' }], lines: [{ product: 'stats', version: '30', model: 'concurrent', quantity: 10 }] }));
    expect((await floe(keycenter, 'order', 'add', '--dir', kc, '--site', 'S-100', '--file', orderFile)).exit).toBe(0);
    const dup = await floe(keycenter, 'order', 'add', '--dir', kc, '--site', 'S-100', '--file', orderFile);
    expect(dup.stderr).toMatch(/^ORDER_EXISTS: /);
    const bad = await floe(keycenter, 'order', 'add', '--dir', kc, '--site', 'S-100', '--order', 'CO-3', '--contact', 'nobody', '--line', 'product=stats');
    expect([bad.exit, bad.stderr.split(':')[0]]).toEqual([2, 'BAD_REQUEST']);
    expect((await floe(keycenter, 'account', 'list', '--dir', kc)).stdout).toContain('S-100  Acme Analytics');
    expect((await floe(keycenter, 'member', 'add', '--dir', kc, '--site', 'S-100', '--email', 'bob@example.com', '--name', 'Bob')).stdout).toContain('bob@example.com is now a member of account S-100');
    const audit = (await floe(keycenter, 'audit', '--dir', kc, '--site', 'S-100')).stdout;
    expect(audit).toMatch(/cli {2}add-member {2}S-100 {2}bob@example.com/);
    expect(audit).toMatch(/cli {2}add-order {2}S-100 {2}CO-1/);
  });

  it('staff add prints an API token once, as the last line', async () => {
    const { kc } = await site();
    const r = await floe(keycenter, 'staff', 'add', '--dir', kc, '--name', 'ann');
    expect(r.last).toMatch(/^kcs_[A-Za-z0-9_-]{43}$/);
    expect((await floe(keycenter, 'staff', 'add', '--dir', kc, '--name', 'ann')).stderr).toMatch(/^STAFF_EXISTS: /);
  });
});
