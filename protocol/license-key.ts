// The license key: the one-line text a vendor's key center issues and a
// sysadmin pastes into Floe. Format:
//
//   FLOE1.<base64url(payload JSON bytes)>.<base64url(Ed25519 signature)>
//
// The signature is over the payload bytes exactly as they travel; the
// verifier checks it over the bytes it decoded, and only then trusts the
// JSON (no re-serialisation, so no canonical-JSON pitfalls). Before the
// check it peeks at the untrusted JSON for one thing only, the vendor key
// id, to pick the public key to check with.
//
// verifyLicenseKey() never throws on its input: every failure is one code.
import nacl from 'tweetnacl';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { bytesToCrockford } from './friendly-code.ts';
import { LICENSE_FORMAT_VERSION, licensePayloadSchema, type LicensePayload } from './license-payload.ts';
import { matchesLockCodes, parseNodeLockCodes } from './lock-code-match.ts';

/** First field of every key; its digit is the format version. */
export const LICENSE_KEY_PREFIX = `FLOE${LICENSE_FORMAT_VERSION}`;

/** Longest key text (whitespace included) the verifier reads; longer is TOO_LARGE. */
export const LICENSE_KEY_CHARS_MAX = 16_384;

/** Why a key was refused. */
export type LicenseKeyErrorCode =
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_VENDOR_KEY'
  | 'SIGNATURE_INVALID'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'LOCK_CODE_MISMATCH';

/**
 * The answer of verifyLicenseKey(). On NOT_YET_VALID, EXPIRED and
 * LOCK_CODE_MISMATCH the signature was good, and `license` carries the
 * (authentic) content so a caller can say which key it was.
 */
export type LicenseKeyVerdict =
  | { ok: true; license: LicensePayload }
  | { ok: false; code: LicenseKeyErrorCode; message: string; license?: LicensePayload };

export interface VerifyLicenseKeyOptions {
  /** Trusted vendor public keys, 32 bytes each (Ed25519). */
  readonly vendorKeys: readonly Uint8Array[];
  /** The current time, ms since the Unix epoch. */
  readonly nowMs: number;
  /**
   * This node's lock codes as it presents them (formatNodeLockCodes), or one
   * lock code; when given, a key none of whose codes match it
   * (lock-code-match.ts: tolerant codes by identity and 2 of 3 machine
   * inputs, others exactly) is LOCK_CODE_MISMATCH.
   */
  readonly lockCode?: string | undefined;
  /**
   * Checks a detached Ed25519 signature (true when `signature` of `message`
   * is `publicKey`'s). Default tweetnacl's, so protocol/ runs anywhere; a
   * server passes Node's crypto (~130× faster: a new leader verifies every
   * license file of its config while it takes office).
   */
  readonly verifySignature?: ((message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean) | undefined;
}

/** Text form of a vendor public key, as `floe keycenter pubkey` prints it. */
const VENDOR_KEY_TAG = 'ed25519:';

/** The vendor key id of a public key: 16 Crockford base32 characters of its SHA-512. */
export function vendorKeyIdOf(publicKey: Uint8Array): string {
  if (publicKey.length !== nacl.sign.publicKeyLength) throw new Error('assert: vendor public key must be 32 bytes');
  return bytesToCrockford(nacl.hash(publicKey), 16);
}

/** "ed25519:<base64url>": the vendor public key as text. */
export function formatVendorPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== nacl.sign.publicKeyLength) throw new Error('assert: vendor public key must be 32 bytes');
  return VENDOR_KEY_TAG + encodeBase64url(publicKey);
}

/** The 32 bytes of a vendor public key text (tag optional), or undefined. Never throws. */
export function parseVendorPublicKey(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length > 200) return undefined;
  const trimmed = text.trim();
  const body = trimmed.startsWith(VENDOR_KEY_TAG) ? trimmed.slice(VENDOR_KEY_TAG.length) : trimmed;
  const bytes = decodeBase64url(body);
  return bytes?.length === nacl.sign.publicKeyLength ? bytes : undefined;
}

/**
 * Signs `payload` with the vendor's Ed25519 secret key (64 bytes, tweetnacl
 * form) and returns the one-line key text. The payload must be valid (an
 * invalid one is a programmer error) and name this vendor key's id.
 */
export function signLicenseKey(payload: LicensePayload, vendorSecretKey: Uint8Array): string {
  if (vendorSecretKey.length !== nacl.sign.secretKeyLength) throw new Error('assert: vendor secret key must be 64 bytes');
  const parsed = licensePayloadSchema.safeParse(payload);
  if (!parsed.success) throw new Error(`assert: invalid license payload: ${parsed.error.message}`);
  const publicKey = nacl.sign.keyPair.fromSecretKey(vendorSecretKey).publicKey;
  if (parsed.data.vendorKeyId !== vendorKeyIdOf(publicKey)) throw new Error('assert: payload names another vendor key');
  const payloadBytes = new TextEncoder().encode(JSON.stringify(parsed.data));
  const signature = nacl.sign.detached(payloadBytes, vendorSecretKey);
  const key = `${LICENSE_KEY_PREFIX}.${encodeBase64url(payloadBytes)}.${encodeBase64url(signature)}`;
  if (key.length > LICENSE_KEY_CHARS_MAX) throw new Error('assert: license key longer than LICENSE_KEY_CHARS_MAX');
  return key;
}

function refuse(code: LicenseKeyErrorCode, message: string, license?: LicensePayload): LicenseKeyVerdict {
  return license === undefined ? { ok: false, code, message } : { ok: false, code, message, license };
}

function isoDate(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** A key text taken apart, before any signature check. */
interface KeyParts {
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** The payload JSON, not yet trusted. */
  readonly untrusted: unknown;
}

/** Takes a key text apart (format, base64url, JSON), or answers why it cannot. Never throws. */
function splitKey(keyText: unknown): KeyParts | LicenseKeyVerdict {
  if (typeof keyText !== 'string') return refuse('MALFORMED', 'a license key is text');
  if (keyText.length > LICENSE_KEY_CHARS_MAX) {
    return refuse('TOO_LARGE', `the license key has ${keyText.length} characters; at most ${LICENSE_KEY_CHARS_MAX} are read`);
  }
  // An e-mail client may wrap or indent the line: whitespace is never part of a key.
  const text = keyText.replace(/\s+/g, '');
  if (text === '') return refuse('MALFORMED', 'the license key is empty');
  const parts = text.split('.');
  const prefix = parts[0] ?? '';
  if (prefix !== LICENSE_KEY_PREFIX) {
    if (/^FLOE\d{1,6}$/.test(prefix)) {
      return refuse('UNSUPPORTED_VERSION', `the license key has format ${prefix}; this Floe reads ${LICENSE_KEY_PREFIX}`);
    }
    return refuse('MALFORMED', `a license key starts with "${LICENSE_KEY_PREFIX}."; this text does not`);
  }
  if (parts.length !== 3) {
    return refuse('MALFORMED', `a license key has three dot-separated parts; this text has ${parts.length} (truncated or joined?)`);
  }
  const payloadBytes = decodeBase64url(parts[1]!);
  const signature = decodeBase64url(parts[2]!);
  if (payloadBytes === undefined || payloadBytes.length === 0) {
    return refuse('MALFORMED', 'the license key content is not valid base64url (damaged or truncated?)');
  }
  if (signature === undefined || signature.length !== nacl.sign.signatureLength) {
    return refuse('MALFORMED', 'the license key signature is damaged or truncated');
  }
  let untrusted: unknown;
  try {
    untrusted = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    return refuse('MALFORMED', 'the license key content is not readable (damaged?)');
  }
  return { payloadBytes, signature, untrusted };
}

/** The payload of an (authentic or not) key's JSON, checked by the schema, or why not. */
function payloadOf(untrusted: unknown): LicenseKeyVerdict {
  const version = typeof untrusted === 'object' && untrusted !== null ? (untrusted as Record<string, unknown>)['v'] : undefined;
  if (version !== LICENSE_FORMAT_VERSION) {
    // Only a number or a short text is worth quoting: String() of a deeply nested array overflows the stack.
    const stated = typeof version === 'number' || (typeof version === 'string' && version.length <= 16) ? String(version) : `(${typeof version})`;
    return refuse('UNSUPPORTED_VERSION', `the license content has format version ${stated}; this Floe reads ${LICENSE_FORMAT_VERSION}`);
  }
  const parsed = licensePayloadSchema.safeParse(untrusted);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse('MALFORMED', `the license content is invalid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return { ok: true, license: parsed.data };
}

/**
 * The content of a key text WITHOUT checking its signature: for diagnostics
 * only (`floe lockcode --explain` shows which of its lock codes match this
 * node). Never trust it: anyone can write such a text. Never throws.
 */
export function readLicenseKeyUnverified(keyText: unknown): LicenseKeyVerdict {
  const split = splitKey(keyText);
  return 'ok' in split ? split : payloadOf(split.untrusted);
}

/**
 * Checks a license key text against trusted vendor keys, a time and
 * optionally this node's lock code. Answers the license, or one code with a
 * human sentence. Never throws on `keyText`, whatever it holds.
 */
export function verifyLicenseKey(keyText: unknown, options: VerifyLicenseKeyOptions): LicenseKeyVerdict {
  if (!Number.isFinite(options.nowMs)) throw new Error('assert: nowMs must be a finite number');
  const split = splitKey(keyText);
  if ('ok' in split) return split;
  const { payloadBytes, signature, untrusted } = split;
  // Peek at the untrusted JSON for the vendor key id only.
  const keyId =
    typeof untrusted === 'object' && untrusted !== null && !Array.isArray(untrusted)
      ? (untrusted as Record<string, unknown>)['vendorKeyId']
      : undefined;
  if (typeof keyId !== 'string') return refuse('MALFORMED', 'the license key names no vendor key');
  const vendorKey = options.vendorKeys.find(
    (k) => k.length === nacl.sign.publicKeyLength && vendorKeyIdOf(k) === keyId,
  );
  if (vendorKey === undefined) {
    return refuse(
      'UNKNOWN_VENDOR_KEY',
      `the license key is signed by vendor key ${keyId.slice(0, 64)}, which is not among the trusted vendor keys`,
    );
  }
  const verifySignature = options.verifySignature ?? nacl.sign.detached.verify;
  if (!verifySignature(payloadBytes, signature, vendorKey)) {
    return refuse('SIGNATURE_INVALID', `the license key signature does not match its content (altered or damaged)`);
  }

  // Authentic from here on: the vendor signed exactly these bytes.
  const content = payloadOf(untrusted);
  if (!content.ok) return content;
  const license = content.license;
  if (options.nowMs < license.notBefore) {
    return refuse('NOT_YET_VALID', `license ${license.licenseId} is not valid before ${isoDate(license.notBefore)}`, license);
  }
  if (license.expiresAt !== undefined && options.nowMs >= license.expiresAt) {
    return refuse('EXPIRED', `license ${license.licenseId} expired at ${isoDate(license.expiresAt)}`, license);
  }
  if (options.lockCode !== undefined) {
    const node = parseNodeLockCodes(options.lockCode);
    if (!matchesLockCodes(license.lockCodes, node, license.lockMatch)) {
      const own = node.tolerant ?? node.exact ?? '';
      return refuse(
        'LOCK_CODE_MISMATCH',
        `license ${license.licenseId} is locked to ${license.lockCodes.join(', ')}; this node's lock code is ${own.slice(0, 64)} ` +
          `(run "floe lockcode --explain --key-file KEY" to see which inputs differ)`,
        license,
      );
    }
  }
  return { ok: true, license };
}
