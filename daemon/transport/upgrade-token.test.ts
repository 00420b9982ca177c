import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createUpgradeToken, UPGRADE_TOKEN_WINDOW_MS, verifyUpgradeToken } from './upgrade-token.ts';

const n2 = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const signer = (keys: typeof n2) => (message: Uint8Array) => new Uint8Array(sign(null, message, keys.privateKey));
const keyOf = (id: string) => (id === 'n2' ? n2.publicKey : undefined);
const T = 1_750_000_000_000;

describe('upgrade tokens', () => {
  it("vouch for the member that signed them, toward the listener they name, within the listener's time window", () => {
    const token = createUpgradeToken('n2', 'n1', T, signer(n2));
    expect(verifyUpgradeToken(token, 'n1', T + 1000, keyOf)).toBe('n2');
    expect(verifyUpgradeToken(token, 'n1', T - UPGRADE_TOKEN_WINDOW_MS, keyOf)).toBe('n2');
  });

  it('vouch for nobody when addressed to another listener, stale, from a stranger, signed by another key, or altered', () => {
    const token = createUpgradeToken('n2', 'n1', T, signer(n2));
    expect(verifyUpgradeToken(token, 'n3', T, keyOf)).toBeUndefined();
    expect(verifyUpgradeToken(token, 'n1', T + UPGRADE_TOKEN_WINDOW_MS + 1, keyOf)).toBeUndefined();
    expect(verifyUpgradeToken(createUpgradeToken('n9', 'n1', T, signer(stranger)), 'n1', T, keyOf)).toBeUndefined();
    expect(verifyUpgradeToken(createUpgradeToken('n2', 'n1', T, signer(stranger)), 'n1', T, keyOf)).toBeUndefined();
    const [claim, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(claim, 'base64url').toString('utf8').replace('"n1"', '"n1" ')).toString('base64url');
    expect(verifyUpgradeToken(`${forged}.${signature}`, 'n1', T, keyOf)).toBeUndefined();
  });

  it('vouch for nobody, and never throw, on anything else in the header', () => {
    for (const garbage of [undefined, '', '.', 'x.y', ['a', 'b'], 'e30.AAAA', `${Buffer.from('null').toString('base64url')}.x`, 'a'.repeat(10_000)]) {
      expect(verifyUpgradeToken(garbage, 'n1', T, keyOf)).toBeUndefined();
    }
  });
});
