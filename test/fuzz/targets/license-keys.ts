// Fuzz target: license key texts, as an admin pastes them (POST /licenses,
// `floe license import|check`, license files). Covers text that is not a key,
// the key's frame with hostile content, content the trusted vendor key did
// sign (so the checks after the signature run on it), and a valid key with
// one character changed.
import { createPrivateKey, sign } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { checkLicenseKey } from '../../../daemon/node/license-check.ts';
import { encodeBase64url } from '../../../protocol/base64url.ts';
import { LICENSE_KEY_CHARS_MAX, LICENSE_KEY_PREFIX, licensePayloadSchema, vendorKeyIdOf, type LicensePayload } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { applyMutation, deepJsonTextOf, hostileJsonText, isErrorCode, NESTING_LEVELS_MAX, jsonValue, randomBytes, randomText, withOneFieldMutated } from '../hostile-values.ts';

const SEED = new Uint8Array(32).fill(11);
const vendor = nacl.sign.keyPair.fromSeed(SEED);
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** node:crypto signs ~100× faster than tweetnacl, and Ed25519 signatures are deterministic: the same bytes. */
const vendorPrivateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, SEED]), format: 'der', type: 'pkcs8' });
const LOCK_CODE = 'FUZZ-LOCK-CODE';
const NOW_MS = 1_750_000_000_000;

const VALID_PAYLOAD: LicensePayload = {
  v: 1,
  licenseId: 'LIC-FUZZ',
  authCode: 'AUTH-FUZZ',
  vendorKeyId: vendorKeyIdOf(vendor.publicKey),
  product: 'cad',
  version: '2024.1',
  model: 'concurrent',
  seats: 5,
  components: ['cad-core', 'cad-render'],
  issuedAt: NOW_MS - 1000,
  notBefore: NOW_MS - 1000,
  expiresAt: NOW_MS + 86_400_000,
  lockCodes: [LOCK_CODE],
  lingerSeconds: 30,
  hostsPerUserMax: 1,
  hostDescription: 'fuzz',
};

/** The key text of `payloadText` as the vendor would sign it. */
function signedKey(payloadText: string): string {
  const bytes = Buffer.from(payloadText, 'utf8');
  return `${LICENSE_KEY_PREFIX}.${encodeBase64url(bytes)}.${encodeBase64url(new Uint8Array(sign(null, bytes, vendorPrivateKey)))}`;
}

const VALID_KEY = signedKey(JSON.stringify(VALID_PAYLOAD));

/** Characters of a nested field that still fits a key of LICENSE_KEY_CHARS_MAX (base64 makes 3 bytes 4 characters) beside the payload's other fields. */
const DEEP_FIELD_CHARS_MAX = Math.floor((LICENSE_KEY_CHARS_MAX * 3) / 4) - JSON.stringify(VALID_PAYLOAD).length - 200;

/** One character of `text` replaced, removed or inserted at `at`. */
function editAt(text: string, at: number, edit: 'replace' | 'remove' | 'insert', char: string): string {
  const i = at % (text.length + 1);
  if (edit === 'remove') return text.slice(0, i) + text.slice(i + 1);
  if (edit === 'insert') return text.slice(0, i) + char + text.slice(i);
  return text.slice(0, i) + char + text.slice(i + 1);
}

const keyText: fc.Arbitrary<unknown> = fc.oneof(
  // Not a key at all (and not always text: the admin API passes the JSON value on).
  { weight: 2, arbitrary: fc.oneof(hostileJsonText, randomText, jsonValue) },
  // The key's frame around hostile content with a random signature.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.oneof(hostileJsonText.map((t) => Buffer.from(t, 'utf8')), randomBytes), fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(([content, signature]) => `${LICENSE_KEY_PREFIX}.${encodeBase64url(content)}.${encodeBase64url(signature)}`),
  },
  // Content the trusted vendor signed: a valid payload with one field changed, or any hostile JSON.
  { weight: 4, arbitrary: withOneFieldMutated(VALID_PAYLOAD).map(signedKey) },
  // …one of its fields nested as deep as fits in LICENSE_KEY_CHARS_MAX.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.keys(VALID_PAYLOAD)), deepJsonTextOf(1000, NESTING_LEVELS_MAX, DEEP_FIELD_CHARS_MAX))
      .map(([field, deep]) => signedKey(applyMutation(VALID_PAYLOAD, { kind: 'replace', path: [field], fragment: deep }))),
  },
  { weight: 1, arbitrary: hostileJsonText.map(signedKey) },
  // The valid key with one character changed.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom<'replace' | 'remove' | 'insert'>('replace', 'remove', 'insert'), fc.constantFrom('.', 'A', '_', '-', '=', ' ', '\n', '\u0000', 'é'))
      .map(([at, edit, char]) => editAt(VALID_KEY, at, edit, char)),
  },
);

/** License keys: checkLicenseKey() answers LICENSE_… or LOCK_CODE_MISMATCH, or a license that passes the payload schema. */
export const licenseKeysTarget: FuzzTarget = {
  name: 'license-keys',
  claim: 'a license key text of any content answers a license error code or a valid license, and never throws',
  // tweetnacl verifies ~65 signatures/s: a few hundred runs keep the test near a few seconds.
  runsInTest: 150,
  open: async () => ({
    property: fc.property(keyText, (text) => {
      const check = checkLicenseKey(text, { vendorKeys: [vendor.publicKey], lockCode: LOCK_CODE, nowMs: NOW_MS });
      if (check.ok) {
        if (!licensePayloadSchema.safeParse(check.license).success) throw new Error('accepted a license its schema refuses');
        return;
      }
      if (!isErrorCode(check.code) || !/^(LICENSE_|LOCK_CODE_MISMATCH$)/.test(check.code)) throw new Error(`answered code ${String(check.code)}`);
      if (typeof check.message !== 'string' || check.message === '') throw new Error('answered no message');
    }),
    close: async () => {},
  }),
};
