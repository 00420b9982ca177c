import { describe, expect, it } from 'vitest';
import { apply, createPoolState, type PoolState } from '../pool/index.ts';
import { key } from '../pool/test-harness.ts';
import { LicenseLocks, lockQuorum, type PeerLockState } from './license-locks.ts';

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

  it('a connected peer counts only with a lock code the key names, and only once however many peers state it', () => {
    const peers = peersView({ n2: up('X'), n3: { lockCode: undefined, connected: true }, n4: up('A') });
    const locks = new LicenseLocks('A', peers.view);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')?.code).toBe('LICENSE_QUORUM_LOST');
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

  it('a node without a lock code (tests) serves everything', () => {
    const locks = new LicenseLocks(undefined);
    locks.refresh(poolWith([{ lockCodes: ['A', 'B', 'C'] }]));
    expect(locks.refusal('cad')).toBeUndefined();
  });
});
