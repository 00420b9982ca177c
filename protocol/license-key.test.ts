import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import {
  LICENSE_KEY_CHARS_MAX,
  formatVendorPublicKey,
  parseVendorPublicKey,
  signLicenseKey,
  vendorKeyIdOf,
  verifyLicenseKey,
  type VerifyLicenseKeyOptions,
} from './license-key.ts';
import type { LicensePayload } from './license-payload.ts';
import { deriveLegacyLockCode, deriveLockCode } from './lock-code.ts';
import { formatNodeLockCodes } from './lock-code-match.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const otherVendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(8));
const machine = { machineId: 'm1', macs: ['aa:bb:cc:dd:ee:01'], hostname: 'lic-a' };
const lockA = deriveLockCode(machine, new Uint8Array(32).fill(1));
const lockB = deriveLockCode(machine, new Uint8Array(32).fill(2));
const lockC = deriveLockCode(machine, new Uint8Array(32).fill(3));
const dayMs = 86_400_000;
const t0 = 1_750_000_000_000;

function payload(over: Partial<LicensePayload> = {}): LicensePayload {
  return {
    v: 1,
    licenseId: 'LIC-1',
    authCode: 'AAAAA-BBBBB-CCCCC-DDDDD',
    vendorKeyId: vendorKeyIdOf(vendor.publicKey),
    product: 'stats',
    version: '29',
    model: 'concurrent',
    seats: 10,
    components: [],
    issuedAt: t0,
    notBefore: t0,
    expiresAt: t0 + 30 * dayMs,
    lockCodes: [lockA],
    lingerSeconds: 0,
    hostsPerUserMax: 1,
    hostDescription: 'license server, Minneapolis data center',
    orderNumber: 'PO-1',
    comment: 'test',
    ...over,
  };
}

const goodKey = signLicenseKey(payload(), vendor.secretKey);
const options = { vendorKeys: [vendor.publicKey], nowMs: t0 + dayMs, lockCode: lockA };

function codeOf(keyText: unknown, opts: VerifyLicenseKeyOptions = options): string {
  const verdict = verifyLicenseKey(keyText, opts);
  return verdict.ok ? 'OK' : verdict.code;
}

/** A key whose payload bytes are `json`, signed by `secretKey`. */
function signRaw(json: string, secretKey = vendor.secretKey): string {
  const bytes = new TextEncoder().encode(json);
  return `FLOE1.${encodeBase64url(bytes)}.${encodeBase64url(nacl.sign.detached(bytes, secretKey))}`;
}

describe('license keys', () => {
  it('signLicenseKey() gives one line of URL-safe text that verifies back to the same license', () => {
    expect(goodKey).toMatch(/^FLOE1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const verdict = verifyLicenseKey(goodKey, options);
    expect(verdict).toEqual({ ok: true, license: payload() });
  });

  it('verify() accepts a key wrapped or indented by an e-mail client', () => {
    const wrapped = `  ${goodKey.slice(0, 70)}\n> ${goodKey.slice(70)}\r\n`.replace('> ', '  ');
    expect(codeOf(wrapped)).toBe('OK');
  });

  it('verify() accepts a perpetual key at any later time and skips the lock check without a lock code', () => {
    const perpetual = payload();
    delete perpetual.expiresAt;
    const key = signLicenseKey(perpetual, vendor.secretKey);
    expect(codeOf(key, { vendorKeys: [vendor.publicKey], nowMs: t0 + 3650 * dayMs, lockCode: undefined })).toBe('OK');
  });

  it('verify() accepts a redundant key on each of its three servers and refuses a fourth', () => {
    const key = signLicenseKey(payload({ lockCodes: [lockA, lockB, lockC] }), vendor.secretKey);
    for (const lockCode of [lockA, lockB, lockC]) expect(codeOf(key, { ...options, lockCode })).toBe('OK');
    const lockD = deriveLockCode(machine, new Uint8Array(32).fill(4));
    expect(codeOf(key, { ...options, lockCode: lockD })).toBe('LOCK_CODE_MISMATCH');
  });

  it('verify() takes a node\'s stated codes: a key still matches after one machine input changed, not under lockMatch "exact", and a 0.1 key matches its legacy code', () => {
    const identity = new Uint8Array(32).fill(1);
    const newNic = { ...machine, macs: ['aa:bb:cc:dd:ee:99'] };
    const stated = formatNodeLockCodes({ lockCode: deriveLockCode(newNic, identity), legacyLockCode: deriveLegacyLockCode(newNic, identity) });
    expect(codeOf(goodKey, { ...options, lockCode: stated })).toBe('OK');
    const exact = signLicenseKey(payload({ lockMatch: 'exact' }), vendor.secretKey);
    expect(codeOf(exact, { ...options, lockCode: stated })).toBe('LOCK_CODE_MISMATCH');
    const before = formatNodeLockCodes({ lockCode: lockA, legacyLockCode: deriveLegacyLockCode(machine, identity) });
    expect(codeOf(exact, { ...options, lockCode: before })).toBe('OK');
    const legacyKey = signLicenseKey(payload({ lockCodes: [deriveLegacyLockCode(machine, identity)] }), vendor.secretKey);
    expect(codeOf(legacyKey, { ...options, lockCode: before })).toBe('OK');
    expect(codeOf(legacyKey, { ...options, lockCode: stated })).toBe('LOCK_CODE_MISMATCH');
  });

  it('verify() answers LOCK_CODE_MISMATCH for a key locked to another node, and names both codes', () => {
    const verdict = verifyLicenseKey(goodKey, { ...options, lockCode: lockB });
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.code).toBe('LOCK_CODE_MISMATCH');
    expect(verdict.message).toContain(lockA);
    expect(verdict.message).toContain(lockB);
    expect(verdict.license?.licenseId).toBe('LIC-1');
  });

  it('verify() compares a node lock code typed in lower case without dashes as the same code', () => {
    expect(codeOf(goodKey, { ...options, lockCode: lockA.replaceAll('-', '').toLowerCase() })).toBe('OK');
  });

  it('verify() answers EXPIRED for a key past its end date, and at the end instant itself', () => {
    expect(codeOf(goodKey, { ...options, nowMs: t0 + 30 * dayMs })).toBe('EXPIRED');
    expect(codeOf(goodKey, { ...options, nowMs: t0 + 31 * dayMs })).toBe('EXPIRED');
    expect(codeOf(goodKey, { ...options, nowMs: t0 + 30 * dayMs - 1 })).toBe('OK');
  });

  it('verify() answers NOT_YET_VALID before the start date', () => {
    expect(codeOf(goodKey, { ...options, nowMs: t0 - 1 })).toBe('NOT_YET_VALID');
    expect(codeOf(goodKey, { ...options, nowMs: t0 })).toBe('OK');
  });

  it('verify() answers UNKNOWN_VENDOR_KEY for a key signed by another vendor', () => {
    const foreign = signLicenseKey(payload({ vendorKeyId: vendorKeyIdOf(otherVendor.publicKey) }), otherVendor.secretKey);
    expect(codeOf(foreign)).toBe('UNKNOWN_VENDOR_KEY');
    expect(codeOf(foreign, { ...options, vendorKeys: [vendor.publicKey, otherVendor.publicKey] })).toBe('OK');
    expect(codeOf(goodKey, { ...options, vendorKeys: [] })).toBe('UNKNOWN_VENDOR_KEY');
  });

  it('verify() answers SIGNATURE_INVALID for a key another vendor signed while claiming our key id', () => {
    const forged = signRaw(JSON.stringify(payload({ seats: 1000 })), otherVendor.secretKey);
    expect(codeOf(forged)).toBe('SIGNATURE_INVALID');
  });

  it('verify() answers SIGNATURE_INVALID for a payload altered after signing (more seats)', () => {
    const [prefix, , sig] = goodKey.split('.');
    const altered = new TextEncoder().encode(JSON.stringify(payload({ seats: 1000 })));
    expect(codeOf(`${prefix}.${encodeBase64url(altered)}.${sig}`)).toBe('SIGNATURE_INVALID');
  });

  it('verify() answers UNSUPPORTED_VERSION for a newer key format or payload version', () => {
    expect(codeOf(goodKey.replace('FLOE1.', 'FLOE2.'))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(signRaw(JSON.stringify({ ...payload(), v: 2 })))).toBe('UNSUPPORTED_VERSION');
  });

  it('verify() answers UNSUPPORTED_VERSION for a signed payload whose version is a 5,000-level nested array, never a stack overflow', () => {
    const nested = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const key = signRaw(`{"v":${nested},"vendorKeyId":"${vendorKeyIdOf(vendor.publicKey)}"}`);
    expect(codeOf(key)).toBe('UNSUPPORTED_VERSION');
  });

  it('verify() answers MALFORMED for a signed payload the schema refuses (two lock codes)', () => {
    expect(codeOf(signRaw(JSON.stringify({ ...payload(), lockCodes: [lockA, lockB] })))).toBe('MALFORMED');
  });

  it('verify() answers MALFORMED for empty, truncated and garbage input, and never for a non-string throws', () => {
    expect(codeOf('')).toBe('MALFORMED');
    expect(codeOf('   \n')).toBe('MALFORMED');
    expect(codeOf(goodKey.slice(0, goodKey.length / 2))).toBe('MALFORMED');
    expect(codeOf(goodKey.slice(0, -1))).toBe('MALFORMED');
    expect(codeOf(goodKey.slice(0, goodKey.lastIndexOf('.')))).toBe('MALFORMED');
    expect(codeOf(`${goodKey}.x`)).toBe('MALFORMED');
    expect(codeOf('hello, world')).toBe('MALFORMED');
    expect(codeOf(signRaw('[1,2,3]'))).toBe('MALFORMED');
    expect(codeOf(signRaw('{"vendorKeyId":'))).toBe('MALFORMED');
    for (const notText of [undefined, null, 42, {}, [], new Uint8Array(4)]) expect(codeOf(notText)).toBe('MALFORMED');
  });

  it('verify() answers TOO_LARGE for 1 MB of garbage without reading it', () => {
    const garbage = 'x'.repeat(1 << 20);
    expect(codeOf(garbage)).toBe('TOO_LARGE');
    expect(codeOf(`${goodKey}${' '.repeat(LICENSE_KEY_CHARS_MAX)}`)).toBe('TOO_LARGE');
  });

  it('verify() refuses a byte flipped at every position of a valid key, and never throws', () => {
    for (let i = 0; i < goodKey.length; i++) {
      // 0x01 everywhere; 0x20 (case) on the envelope, where it could fool a lax parser.
      for (const mask of i < 8 || i > goodKey.length - 90 ? [0x01, 0x20] : [0x01]) {
        const flipped = goodKey.slice(0, i) + String.fromCharCode(goodKey.charCodeAt(i) ^ mask) + goodKey.slice(i + 1);
        const verdict = verifyLicenseKey(flipped, options);
        expect(verdict.ok, `flip ${mask} at ${i}`).toBe(false);
      }
    }
  }, 120_000);

  it('verify() never throws and never accepts a key changed at random (fuzzed)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(
        fc.nat(goodKey.length - 1),
        fc.constantFrom(...alphabet),
        fc.nat(3),
        (at, ch, extra) => {
          const edited = goodKey.slice(0, at) + ch + goodKey.slice(at + 1 + (extra === 3 ? 1 : 0));
          fc.pre(edited !== goodKey);
          expect(verifyLicenseKey(edited, options).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verify() never throws on thousands of arbitrary inputs', () => {
    const keyish = fc
      .tuple(fc.constantFrom('FLOE1', 'FLOE2', 'floe1', ''), fc.string({ unit: 'binary' }), fc.string(), fc.nat(4))
      .map(([p, a, b, n]) => [p, a, b].slice(0, n).join('.'));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.anything(), keyish), (input) => {
        const verdict = verifyLicenseKey(input, options);
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('verify() never throws on validly encoded keys whose JSON is arbitrary (fuzzed)', () => {
    const sig = encodeBase64url(new Uint8Array(64));
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: 'binary' })), (json) => {
        const text = `FLOE1.${encodeBase64url(new TextEncoder().encode(json))}.${sig}`;
        expect(verifyLicenseKey(text, options).ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeBase64url() reads back what encodeBase64url() wrote and refuses non-canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeBase64url(encodeBase64url(bytes))).toEqual(bytes);
      }),
    );
    expect(decodeBase64url('AB')).toBeUndefined(); // padding bits set
    expect(decodeBase64url('A')).toBeUndefined();
    expect(decodeBase64url('AA=')).toBeUndefined();
  });

  it('a vendor public key prints as text and reads back, with or without its tag', () => {
    const text = formatVendorPublicKey(vendor.publicKey);
    expect(text).toMatch(/^ed25519:[A-Za-z0-9_-]{43}$/);
    expect(parseVendorPublicKey(text)).toEqual(vendor.publicKey);
    expect(parseVendorPublicKey(text.slice('ed25519:'.length))).toEqual(vendor.publicKey);
    expect(parseVendorPublicKey(text.slice(0, -2))).toBeUndefined();
    expect(parseVendorPublicKey(42)).toBeUndefined();
  });
});
