// The borrow token: what a client takes offline with a borrowed seat, so the
// application can prove to itself, at start and with no network, that it
// holds a seat until a given time on this machine. Format (one line):
//
//   FLOEBORROW1.<base64url(payload JSON bytes)>.<base64url(Ed25519 signature)>
//
// signed with the cluster's borrow key (the pool keeps it, replicated, so
// every node signs and verifies with the same one). Like license keys, the
// signature covers the payload bytes as they travel, and the JSON is trusted
// only after the check. The node signs with Node's crypto (fast, on the
// request path); verifyBorrowToken uses tweetnacl so protocol/ stays pure
// and runs anywhere — one verification at application start costs ~15 ms.
// Never throws on its input.
import nacl from 'tweetnacl';
import { z } from 'zod';
import { decodeBase64url, encodeBase64url } from './base64url.ts';

/** First field of every borrow token. */
export const BORROW_TOKEN_PREFIX = 'FLOEBORROW1';

/** Longest token text read, characters. */
export const BORROW_TOKEN_CHARS_MAX = 4_096;

const epochMs = z.number().int().nonnegative().max(8_640_000_000_000_000);

/** What a borrow token says. */
export const borrowTokenPayloadSchema = z
  .object({
    v: z.literal(1),
    /** The cluster's borrow public key (base64url, 32 bytes) that signed it. */
    kid: z.string().min(43).max(43),
    leaseId: z.string().min(1).max(64),
    feature: z.string().min(1).max(64),
    version: z.string().min(1).max(32),
    count: z.number().int().min(1),
    clientId: z.string().min(1).max(64),
    user: z.string().min(1).max(128),
    host: z.string().min(1).max(128),
    /** The machine fingerprint the client stated when it borrowed (machineFingerprint() in the SDK). */
    fingerprint: z.string().min(1).max(128),
    /** `ms` since the epoch, leader's clock. */
    borrowedAt: epochMs,
    /** `ms` since the epoch: the seat is the holder's until then. */
    expiresAt: epochMs,
    fencingToken: z.number().int().nonnegative(),
  })
  .strict();

/** The verified content of a borrow token. */
export type BorrowTokenPayload = z.infer<typeof borrowTokenPayloadSchema>;

/** Why a token was refused. */
export type BorrowTokenErrorCode = 'BORROW_TOKEN_MALFORMED' | 'BORROW_TOKEN_SIGNATURE_INVALID' | 'BORROW_TOKEN_EXPIRED' | 'BORROW_TOKEN_WRONG_MACHINE';

/** The answer of verifyBorrowToken(); on EXPIRED and WRONG_MACHINE the signature was good and `payload` says which token it was. */
export type BorrowTokenVerdict =
  | { ok: true; payload: BorrowTokenPayload }
  | { ok: false; code: BorrowTokenErrorCode; message: string; payload?: BorrowTokenPayload };

/** The payload bytes to sign: the JSON of `payload`, as it will travel. */
export function borrowTokenPayloadBytes(payload: BorrowTokenPayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(payload));
}

/** The token text of signed payload bytes. */
export function formatBorrowToken(payloadBytes: Uint8Array, signature: Uint8Array): string {
  return `${BORROW_TOKEN_PREFIX}.${encodeBase64url(payloadBytes)}.${encodeBase64url(signature)}`;
}

/** The public key (32 bytes) of base64url text, or undefined. */
export function parseBorrowPublicKey(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length !== 43) return undefined;
  const bytes = decodeBase64url(text);
  return bytes?.length === nacl.sign.publicKeyLength ? bytes : undefined;
}

/** Splits a token into its payload bytes, signature and (unverified) payload; undefined when malformed. */
export function parseBorrowToken(text: unknown): { payloadBytes: Uint8Array; signature: Uint8Array; payload: BorrowTokenPayload } | undefined {
  if (typeof text !== 'string' || text.length > BORROW_TOKEN_CHARS_MAX) return undefined;
  const parts = text.trim().split('.');
  if (parts.length !== 3 || parts[0] !== BORROW_TOKEN_PREFIX) return undefined;
  const payloadBytes = decodeBase64url(parts[1] as string);
  const signature = decodeBase64url(parts[2] as string);
  if (payloadBytes === undefined || signature === undefined || signature.length !== nacl.sign.signatureLength) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    return undefined; // not UTF-8 JSON: malformed, not an exception
  }
  const parsed = borrowTokenPayloadSchema.safeParse(json);
  return parsed.success ? { payloadBytes, signature, payload: parsed.data } : undefined;
}

/** Options of verifyBorrowToken. */
export interface VerifyBorrowTokenOptions {
  /** The cluster's borrow public key the application trusts (32 bytes, or its base64url text). */
  readonly publicKey: Uint8Array | string;
  /** `ms` since the epoch. */
  readonly nowMs: number;
  /** This machine's fingerprint: a token borrowed on another machine is refused. Omit to skip the check. */
  readonly fingerprint?: string;
}

/**
 * Checks a borrow token offline: its format, its signature by `publicKey`,
 * that it has not expired at `nowMs`, and that it was borrowed on this
 * machine. Never throws on its input.
 */
export function verifyBorrowToken(text: unknown, options: VerifyBorrowTokenOptions): BorrowTokenVerdict {
  const parsed = parseBorrowToken(text);
  if (parsed === undefined) return { ok: false, code: 'BORROW_TOKEN_MALFORMED', message: 'The text is not a Floe borrow token.' };
  const key = typeof options.publicKey === 'string' ? parseBorrowPublicKey(options.publicKey) : options.publicKey;
  if (key === undefined || key.length !== nacl.sign.publicKeyLength) {
    return { ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID', message: 'The trusted borrow public key is not a 32-byte key.' };
  }
  if (!nacl.sign.detached.verify(parsed.payloadBytes, parsed.signature, key)) {
    return { ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID', message: "The token's signature does not match the cluster's borrow key: it was altered, or another cluster issued it." };
  }
  const payload = parsed.payload;
  if (options.fingerprint !== undefined && options.fingerprint !== payload.fingerprint) {
    return { ok: false, code: 'BORROW_TOKEN_WRONG_MACHINE', message: `The seat of ${payload.feature} was borrowed on another machine.`, payload };
  }
  if (options.nowMs >= payload.expiresAt) {
    return { ok: false, code: 'BORROW_TOKEN_EXPIRED', message: `The borrow of ${payload.feature} ended at ${new Date(payload.expiresAt).toISOString()}.`, payload };
  }
  return { ok: true, payload };
}
