import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { deriveLegacyLockCode, deriveLockCode, formatNodeLockCodes } from '../../protocol/index.ts';
import { apply, createPoolState, type PoolState } from '../pool/index.ts';
import { key } from '../pool/harness.test-support.ts';
import { LicenseLocks, lockQuorum, type DuplicateLockCode, type PeerLockState } from './license-locks.ts';

/** A pool with one key per entry: `lockCodes` and the product it licenses (default "cad"). */
function poolWith(keys: { lockCodes: string[]; product?: string }[]): PoolState {
  const pool = createPoolState();
  keys.forEach((k, i) => {
    const license = key({ licenseId: `K${i + 1}`, authCode: `A${i + 1}`, product: k.product ?? 'cad', lockCodes: k.lockCodes });
    const result = apply(pool, { type: 'license-install', license, at: 1000 }, i + 1);
    if (!result.reply.ok) throw new Error(`install failed: ${result.reply.code}`);
  });
  return pool;
}

/** A peers view that can be changed under the LicenseLocks reading it. */
function peersView(entries: Record<string, PeerLockState>): { view: () => ReadonlyMap<string, PeerLockState>; set: (id: string, s: PeerLockState) => void } {
  const map = new Map(Object.entries(entries));
  return { view: () => map, set: (id, s) => map.set(id, s) };
}

const up = (lockCode: string): PeerLockState => ({ lockCode, connected: true });
const down = (lockCode: string): PeerLockState => ({ lockCode, connected: false });

describe('LicenseLocks', () => {
  it('a majority of n named servers is floor(n/2)+1', () => {
    expect([1, 2, 3, 4, 5].map(lockQuorum)).toEqual([1, 2, 2, 3, 3]);
  });

  it('a key naming only this server is served by it alone', () => {
    const locks = new LicenseLocks('A');
    locks.refresh(poolWith([{ lockCodes: ['A'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });

  it('a key that does not name this server answers LICENSE_NOT_FOR_THIS_SERVER, even with its servers up', () => {
    const peers = peersView({ n2: up('B'), n3: up('C') });
    const locks = new LicenseLocks('D', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
  });

  it('a redundant key is served while this server and one other server it names are connected', () => {
    const peers = peersView({ n2: up('B'), n3: down('C') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });

  it('a redundant key answers LICENSE_QUORUM_LOST when only this server of the three it names is up, and is served again when another returns', () => {
    const peers = peersView({ n2: down('B'), n4: up('D') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    const refusal = locks.refusal('cad');
    expect(refusal?.code).toBe('LICENSE_QUORUM_LOST');
    expect(refusal?.message).toMatch(/2 of the 3 servers/);
    peers.set('n2', up('B'));
    expect(locks.refusal('cad')).toBeUndefined();
  });

  it('a connected peer counts only with a lock code the key names', () => {
    const peers = peersView({ n2: up('X'), n3: { lockCode: undefined, connected: true } });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
  });

  it('two peers presenting one lock code count for no key, and are reported once as LOCK_CODE_DUPLICATE', () => {
    const reports: DuplicateLockCode[][] = [];
    const peers = peersView({ n2: up('B'), n3: up('B') });
    const locks = new LicenseLocks('A', peers.view, { nodeId: 'n1', onDuplicates: (d) => reports.push([...d]) });
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
    expect(locks.duplicates()).toEqual([{ code: 'LOCK_CODE_DUPLICATE', lockCode: 'B', members: ['n2', 'n3'] }]);
    expect(reports).toEqual([[{ code: 'LOCK_CODE_DUPLICATE', lockCode: 'B', members: ['n2', 'n3'] }]]);
    // One of them gone: the other counts again.
    peers.set('n3', down('B'));
    expect(locks.refusal('cad')).toBeUndefined();
    expect(locks.duplicates()).toEqual([]);
  });

  it('a peer presenting this node\'s own lock code makes this node serve no key, saying why', () => {
    const peers = peersView({ n2: up('A'), n3: up('C') });
    const locks = new LicenseLocks('A', peers.view, { nodeId: 'n1' });
    locks.refresh(poolWith([{ lockCodes: ['A'] }, { lockCodes: ['A', 'B', 'C'], product: 'cam' }]));
    const refusal = locks.refusal('cad');
    expect(refusal?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    expect(refusal?.message).toContain('also presented by n2');
    expect(locks.refusal('cam')?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    expect(locks.duplicates()).toMatchObject([{ members: ['n1', 'n2'] }]);
  });

  it('a node without peers serves a redundant key only if it names this node alone', () => {
    const locks = new LicenseLocks('A');
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }, { lockCodes: ['A'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });

  it('a feature with several keys is served when any one key has its majority up', () => {
    // The old key names A, B, C (B and C gone); the new one names A, B, D (D up).
    const peers = peersView({ n2: down('B'), n4: up('D') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }, { lockCodes: ['A', 'B', 'D'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });

  it('each feature is judged by its own keys', () => {
    const peers = peersView({ n2: down('B') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }, { lockCodes: ['A'], product: 'cam' }, { lockCodes: ['B'], product: 'viz' }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
    expect(locks.refusal('cam')).toBeUndefined();
    expect(locks.refusal('viz')?.code).toBe('LICENSE_NOT_FOR_THIS_SERVER');
    expect(locks.refusal('unknown')).toBeUndefined();
  });

  it('gates a checkout with only the keys that pass here: a one-server key does not unlock a redundant key that lost its majority', () => {
    const peers = peersView({ n2: down('B'), n3: down('C') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A'] }, { lockCodes: ['A', 'B', 'C'] }, { lockCodes: ['B'] }]));
    expect(locks.gate('cad')).toEqual({ ok: true, licenseIds: ['K1'] });
    expect(locks.keyStates().map((k) => [k.licenseId, k.served, k.refusal?.code])).toEqual([
      ['K1', true, undefined],
      ['K2', false, 'LICENSE_QUORUM_LOST'],
      ['K3', false, 'LICENSE_NOT_FOR_THIS_SERVER'],
    ]);
    peers.set('n2', up('B'));
    expect(locks.gate('cad')).toEqual({ ok: true, licenseIds: ['K1', 'K2'] });
    expect(locks.gate('unknown')).toEqual({ ok: true, licenseIds: [] });
  });

  it('tolerant lock codes: a peer whose NIC was replaced still counts toward the majority; under lockMatch "exact" it does not', () => {
    const keys = [1, 2, 3].map((i) => nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(i)).publicKey);
    const machine = { machineId: 'm', macs: ['aa:bb:cc:dd:ee:01'], hostname: 'lic' };
    const stated = (k: Uint8Array, m = machine) => formatNodeLockCodes({ lockCode: deriveLockCode(m, k), legacyLockCode: deriveLegacyLockCode(m, k) });
    const issued = keys.map((k) => deriveLockCode(machine, k));
    const newNic = { ...machine, macs: ['aa:bb:cc:dd:ee:99'] };
    const peers = peersView({ n2: up(stated(keys[1]!, newNic)), n3: down(stated(keys[2]!)) });
    const locks = new LicenseLocks(stated(keys[0]!), peers.view);
    const pool = createPoolState();
    apply(pool, { type: 'license-install', at: 1000, license: key({ licenseId: 'K1', lockCodes: issued }) }, 1);
    locks.refresh(pool);
    expect(locks.refusal('cad')).toBeUndefined();
    apply(pool, { type: 'license-remove', at: 1000, licenseId: 'K1' }, 2);
    apply(pool, { type: 'license-install', at: 1000, license: key({ licenseId: 'K2', lockCodes: issued, lockMatch: 'exact' }) }, 3);
    locks.refresh(pool);
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
  });

  it('a node without a lock code (tests) serves everything', () => {
    const locks = new LicenseLocks(undefined);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });
});
