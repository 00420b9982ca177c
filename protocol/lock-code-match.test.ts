import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { deriveLegacyLockCode, deriveLockCode, type MachineIdentifiers } from './lock-code.ts';
import {
  formatNodeLockCodes,
  matchLockCode,
  matchesLockCodes,
  parseNodeLockCodes,
  sameLockIdentity,
  sameNodeLockCodes,
  type NodeLockCodes,
} from './lock-code-match.ts';

const machine: MachineIdentifiers = { machineId: 'aaaa', macs: ['aa:bb:cc:dd:ee:01'], hostname: 'lic-a' };
const keyA = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey;
const keyB = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(2)).publicKey;

/** The codes node `key` presents on `m`. */
function node(m: MachineIdentifiers, key = keyA): NodeLockCodes {
  return parseNodeLockCodes(formatNodeLockCodes({ lockCode: deriveLockCode(m, key), legacyLockCode: deriveLegacyLockCode(m, key) }));
}

const issued = deriveLockCode(machine, keyA);

describe('matching a tolerant lock code', () => {
  it('matches the node it was derived on, part by part', () => {
    expect(matchLockCode(issued, node(machine))).toMatchObject({
      matches: true,
      identity: true,
      inputs: { 'machine-id': true, macs: true, hostname: true },
      inputsNeeded: 2,
    });
  });

  it('still matches after one machine input changed (a new NIC, a new hostname, a reinstalled OS)', () => {
    for (const changed of [{ ...machine, macs: ['aa:bb:cc:dd:ee:99'] }, { ...machine, hostname: 'lic-a2' }, { ...machine, machineId: 'bbbb' }]) {
      expect(matchLockCode(issued, node(changed)).matches).toBe(true);
    }
  });

  it('does not match once two inputs changed (another machine), nor under the exact mode once one did', () => {
    const moved = node({ ...machine, macs: ['aa:bb:cc:dd:ee:99'], hostname: 'lic-b' });
    expect(matchLockCode(issued, moved)).toMatchObject({ matches: false, identity: true, inputs: { 'machine-id': true, macs: false, hostname: false } });
    const newNic = node({ ...machine, macs: ['aa:bb:cc:dd:ee:99'] });
    expect(matchLockCode(issued, newNic, 'exact')).toMatchObject({ matches: false, inputsNeeded: 3 });
    expect(matchLockCode(issued, node(machine), 'exact').matches).toBe(true);
  });

  it('never matches another identity, whatever the machine (two nodes on one machine are two servers)', () => {
    expect(matchLockCode(issued, node(machine, keyB))).toMatchObject({ matches: false, identity: false });
  });

  it('a legacy code matches only exactly, and a node stating only a legacy code (0.1) matches no tolerant code', () => {
    const legacy = deriveLegacyLockCode(machine, keyA);
    expect(matchLockCode(legacy, node(machine)).matches).toBe(true);
    expect(matchLockCode(legacy, node({ ...machine, hostname: 'lic-a2' })).matches).toBe(false);
    const old = parseNodeLockCodes(legacy);
    expect(old).toMatchObject({ tolerant: undefined, exact: legacy });
    expect(matchLockCode(issued, old).matches).toBe(false);
  });

  it('matchesLockCodes() takes any of a key\'s codes, under the key\'s mode (tolerant when absent)', () => {
    const other = deriveLockCode(machine, keyB);
    const newNic = node({ ...machine, macs: [] });
    expect(matchesLockCodes([other, issued], newNic, undefined)).toBe(true);
    expect(matchesLockCodes([other, issued], newNic, 'exact')).toBe(false);
  });
});

describe('what a node states', () => {
  it('fits the handshake: at most 64 letters, digits and dashes, and reads back', () => {
    const text = formatNodeLockCodes({ lockCode: issued, legacyLockCode: deriveLegacyLockCode(machine, keyA) });
    expect(text).toMatch(/^[A-Z0-9-]{1,64}$/);
    expect(parseNodeLockCodes(text)).toMatchObject({ tolerant: issued, exact: deriveLegacyLockCode(machine, keyA) });
  });

  it('any other text is kept to match exactly (tests, and whatever a peer states), never throwing', () => {
    expect(parseNodeLockCodes('LOCK-2')).toMatchObject({ tolerant: undefined, exact: 'LOCK-2' });
    expect(parseNodeLockCodes('')).toMatchObject({ tolerant: undefined, exact: undefined });
    expect(matchLockCode('LOCK-2', parseNodeLockCodes('LOCK-2')).matches).toBe(true);
  });

  it('two nodes with one identity present the same lock code even on two machines (a copied identity)', () => {
    expect(sameNodeLockCodes(node(machine), node({ machineId: 'x', macs: [], hostname: 'elsewhere' }))).toBe(true);
    expect(sameNodeLockCodes(node(machine), node(machine, keyB))).toBe(false);
    expect(sameNodeLockCodes(parseNodeLockCodes('B'), parseNodeLockCodes('B'))).toBe(true);
  });

  it('sameLockIdentity() tells when two typed codes name one node: a key center refuses such a pair', () => {
    expect(sameLockIdentity(issued, deriveLockCode({ ...machine, hostname: 'other' }, keyA))).toBe(true);
    expect(sameLockIdentity(issued, issued.toLowerCase().replaceAll('-', ''))).toBe(true);
    expect(sameLockIdentity(issued, deriveLockCode(machine, keyB))).toBe(false);
  });
});
