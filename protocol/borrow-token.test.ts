import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { encodeBase64url } from './base64url.ts';
import { borrowTokenPayloadBytes, formatBorrowToken, verifyBorrowToken, type BorrowTokenPayload } from './borrow-token.ts';

const keys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));
const other = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(4));
const NOW = 1_800_000_000_000;

function payload(over: Partial<BorrowTokenPayload> = {}): BorrowTokenPayload {
  return {
    v: 1, kid: encodeBase64url(keys.publicKey), leaseId: 'L42', feature: 'cad', version: '29', count: 1, clientId: 'client-0001', user: 'dave', host: 'laptop',
    fingerprint: 'fp-laptop', borrowedAt: NOW - 3_600_000, expiresAt: NOW + 3_600_000, fencingToken: 42, ...over,
  };
}
function token(p: BorrowTokenPayload, secretKey = keys.secretKey): string {
  const bytes = borrowTokenPayloadBytes(p);
  return formatBorrowToken(bytes, nacl.sign.detached(bytes, secretKey));
}

describe('borrow tokens', () => {
  it('a token signed with the trusted key, on its machine, before its end, checks out offline', () => {
    expect(verifyBorrowToken(token(payload()), { publicKey: keys.publicKey, nowMs: NOW, fingerprint: 'fp-laptop' })).toEqual({ ok: true, payload: payload() });
    expect(verifyBorrowToken(token(payload()), { publicKey: encodeBase64url(keys.publicKey), nowMs: NOW }).ok).toBe(true);
  });

  it('refuses a token from another machine, an ended one, and one signed by another key, each with its code', () => {
    expect(verifyBorrowToken(token(payload()), { publicKey: keys.publicKey, nowMs: NOW, fingerprint: 'fp-desk' })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_WRONG_MACHINE' });
    expect(verifyBorrowToken(token(payload()), { publicKey: keys.publicKey, nowMs: NOW + 3_600_000 })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_EXPIRED' });
    expect(verifyBorrowToken(token(payload(), other.secretKey), { publicKey: keys.publicKey, nowMs: NOW })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID' });
  });

  it('refuses a token whose end date was edited, even re-encoded cleanly', () => {
    const t = token(payload());
    const [prefix, , sig] = t.split('.');
    const edited = `${prefix}.${encodeBase64url(borrowTokenPayloadBytes(payload({ expiresAt: NOW + 999 * 3_600_000 })))}.${sig}`;
    expect(verifyBorrowToken(edited, { publicKey: keys.publicKey, nowMs: NOW })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID' });
  });

  it('never throws on any byte flipped in a token or on arbitrary input', () => {
    const t = token(payload());
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      const flipped = t.slice(0, i) + String.fromCharCode(c === 65 ? 66 : 65) + t.slice(i + 1);
      const v = verifyBorrowToken(flipped, { publicKey: keys.publicKey, nowMs: NOW });
      if (flipped !== t) expect(v.ok).toBe(false);
    }
    for (const input of [undefined, null, 42, '', 'FLOEBORROW1', 'FLOEBORROW1..', 'x'.repeat(10_000), {}, 'FLOEBORROW1.e30.AAAA']) {
      expect(verifyBorrowToken(input, { publicKey: keys.publicKey, nowMs: NOW })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_MALFORMED' });
    }
    expect(verifyBorrowToken(t, { publicKey: 'not a key', nowMs: NOW })).toMatchObject({ ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID' });
  });
});
