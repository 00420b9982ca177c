import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { deriveLockCode, parseLockCode, type MachineIdentifiers } from './lock-code.ts';

const machine: MachineIdentifiers = {
  machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
  macs: ['02:FC:00:00:00:01', 'aa:bb:cc:dd:ee:ff'],
  hostname: 'lic-a',
};
const keyA = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey;
const keyB = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(2)).publicKey;

describe('lock codes', () => {
  it('deriveLockCode() gives five groups of five that parseLockCode() accepts', () => {
    const code = deriveLockCode(machine, keyA);
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    expect(parseLockCode(code)).toEqual({ ok: true, code });
  });

  it('is stable: the same machine and identity give the same code, whatever the MAC order or case', () => {
    const shuffled = { ...machine, macs: ['AA:BB:CC:DD:EE:FF', '02:fc:00:00:00:01'], hostname: 'LIC-A' };
    expect(deriveLockCode(shuffled, keyA)).toBe(deriveLockCode(machine, keyA));
  });

  it('two identities on one machine have two codes', () => {
    expect(deriveLockCode(machine, keyA)).not.toBe(deriveLockCode(machine, keyB));
  });

  it('one identity on another machine has another code (machine-id, MAC or hostname differs)', () => {
    const base = deriveLockCode(machine, keyA);
    expect(deriveLockCode({ ...machine, machineId: 'ffff' }, keyA)).not.toBe(base);
    expect(deriveLockCode({ ...machine, machineId: undefined }, keyA)).not.toBe(base);
    expect(deriveLockCode({ ...machine, macs: ['aa:bb:cc:dd:ee:ff'] }, keyA)).not.toBe(base);
    expect(deriveLockCode({ ...machine, hostname: 'lic-b' }, keyA)).not.toBe(base);
  });

  it('works in a container with no machine-id and no physical interface', () => {
    expect(parseLockCode(deriveLockCode({ machineId: undefined, macs: [], hostname: 'c0ffee' }, keyA)).ok).toBe(true);
  });

  it('parseLockCode() refuses a mistyped lock code as a TYPO, never as another code', () => {
    const code = deriveLockCode(machine, keyA);
    const last = code.at(-2) === '0' ? '1' : '0';
    const typo = code.slice(0, -2) + last + code.slice(-1);
    const parsed = parseLockCode(typo);
    expect(parsed.ok ? 'accepted' : parsed.problem).toBe('TYPO');
  });
});
