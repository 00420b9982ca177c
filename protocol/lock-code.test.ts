import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { deriveLegacyLockCode, deriveLockCode, lockCodeParts, parseLockCode, type MachineIdentifiers } from './lock-code.ts';

const machine: MachineIdentifiers = {
  machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
  macs: ['02:FC:00:00:00:01', 'aa:bb:cc:dd:ee:ff'],
  hostname: 'lic-a',
};
const keyA = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey;
const keyB = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(2)).publicKey;
const SYMBOL = '[0-9A-HJKMNP-TV-Z]';

describe('lock codes', () => {
  it('deriveLockCode() gives six groups of five (the tolerant form) that parseLockCode() accepts', () => {
    const code = deriveLockCode(machine, keyA);
    expect(code).toMatch(new RegExp(`^${SYMBOL}{5}(-${SYMBOL}{5}){5}$`));
    expect(parseLockCode(code)).toEqual({ ok: true, code, form: 'tolerant' });
  });

  it('the legacy form of 0.1 is unchanged, so keys issued against it keep working', () => {
    // Printed by `floe lockcode`'s derivation before 0.2 for this machine and identity.
    expect(deriveLegacyLockCode(machine, keyA)).toBe('ZVG64-5W7DJ-9XMBB-BE55F-P3E90');
    expect(parseLockCode('zvg64 5w7dj 9xmbb be55f p3e90')).toEqual({ ok: true, code: 'ZVG64-5W7DJ-9XMBB-BE55F-P3E90', form: 'legacy' });
  });

  it('is stable: the same machine and identity give the same code, whatever the MAC order or case', () => {
    const shuffled = { ...machine, macs: ['AA:BB:CC:DD:EE:FF', '02:fc:00:00:00:01'], hostname: 'LIC-A' };
    expect(deriveLockCode(shuffled, keyA)).toBe(deriveLockCode(machine, keyA));
    expect(deriveLegacyLockCode(shuffled, keyA)).toBe(deriveLegacyLockCode(machine, keyA));
  });

  it('two identities on one machine share no part of their codes', () => {
    const a = lockCodeParts(deriveLockCode(machine, keyA))!;
    const b = lockCodeParts(deriveLockCode(machine, keyB))!;
    expect(a.identity).not.toBe(b.identity);
    for (const input of ['machine-id', 'macs', 'hostname'] as const) expect(a.inputs[input]).not.toBe(b.inputs[input]);
  });

  it('a changed machine input changes only its own group; the identity stays', () => {
    const base = lockCodeParts(deriveLockCode(machine, keyA))!;
    const cases: [MachineIdentifiers, 'machine-id' | 'macs' | 'hostname'][] = [
      [{ ...machine, machineId: 'ffff' }, 'machine-id'],
      [{ ...machine, machineId: undefined }, 'machine-id'],
      [{ ...machine, macs: ['aa:bb:cc:dd:ee:ff'] }, 'macs'],
      [{ ...machine, hostname: 'lic-b' }, 'hostname'],
    ];
    for (const [changed, input] of cases) {
      const parts = lockCodeParts(deriveLockCode(changed, keyA))!;
      expect(parts.identity).toBe(base.identity);
      for (const other of ['machine-id', 'macs', 'hostname'] as const) {
        if (other === input) expect(parts.inputs[other]).not.toBe(base.inputs[other]);
        else expect(parts.inputs[other]).toBe(base.inputs[other]);
      }
      expect(deriveLegacyLockCode(changed, keyA)).not.toBe(deriveLegacyLockCode(machine, keyA));
    }
  });

  it('works in a container with no machine-id and no physical interface', () => {
    expect(parseLockCode(deriveLockCode({ machineId: undefined, macs: [], hostname: 'c0ffee' }, keyA)).ok).toBe(true);
  });

  it('parseLockCode() refuses a mistyped code of either form as a TYPO, never as another code', () => {
    for (const code of [deriveLockCode(machine, keyA), deriveLegacyLockCode(machine, keyA)]) {
      const last = code.at(-2) === '0' ? '1' : '0';
      const typo = code.slice(0, -2) + last + code.slice(-1);
      const parsed = parseLockCode(typo);
      expect(parsed.ok ? 'accepted' : parsed.problem).toBe('TYPO');
    }
  });

  it('parseLockCode() refuses a code of any other length as MALFORMED, saying which lengths exist', () => {
    const parsed = parseLockCode(deriveLockCode(machine, keyA).slice(0, -3));
    expect(parsed).toMatchObject({ ok: false, problem: 'MALFORMED' });
    expect(!parsed.ok && parsed.message).toContain('30 or 25');
    expect(parseLockCode(42)).toMatchObject({ ok: false, problem: 'MALFORMED' });
  });
});
