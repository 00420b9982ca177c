// The offline activation request file: what a cluster with no route to the
// key center writes (`floe license request`), a person carries to a machine
// that has one, and the key center's API or portal answers with a key file.
// It names the authorization code, every member's lock code and identity
// public key, a host description and when it was made, and is signed by one
// member's identity key, so the key center can tell it was not edited: the
// signature covers the request as its canonical JSON (the schema's field
// order), and each tolerant lock code's identity part must be the digest of
// its member's public key (lockIdentityOf), so lock codes cannot be swapped
// for others and the file signed again with some other key. Never throws on
// its input. Pure: tweetnacl, so protocol/ runs anywhere.
import nacl from 'tweetnacl';
import { z } from 'zod';
import { activationAnswerSchema } from './activation-api.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { LOCK_CODES_PER_KEY_MAX } from './license-payload.ts';
import { lockCodeParts, lockIdentityOf, parseLockCode } from './lock-code.ts';

/** The `format` of a request file. */
export const ACTIVATION_REQUEST_FORMAT = 'floe-activation-request';
/** The `format` of the key file a key center answers a request file with. */
export const LICENSE_KEY_FILE_FORMAT = 'floe-license-key';
/** Where the key center takes request files, below its base URL. */
export const ACTIVATION_REQUEST_PATH = '/api/v1/activation-requests';
/** Characters of a request file read at most (three members take about 1,500). */
export const ACTIVATION_REQUEST_CHARS_MAX = 16 * 1024;

/** The refusals of a request file (besides the activation's own, ACTIVATION_REFUSAL_CODES). */
export type ActivationRequestErrorCode = 'REQUEST_MALFORMED' | 'REQUEST_SIGNATURE_INVALID' | 'REQUEST_LOCK_CODE_UNBOUND';

const base64url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes of base64url');

/** One member of the cluster, as the request names it. */
const requestMemberSchema = z
  .object({
    nodeId: z.string().min(1).max(64),
    /** Its lock code (tolerant form, canonical), which the key will name. */
    lockCode: z.string().min(1).max(64),
    /** Its identity public key (Ed25519, base64url). */
    publicKey: base64url32,
  })
  .strict();

/** What the request asks, as signed. */
export const activationRequestBodySchema = z
  .object({
    /** The authorization code, canonical. */
    authCode: z.string().min(1).max(64),
    /** Every member of the cluster: 1, 3 or 5 of them. */
    members: z.array(requestMemberSchema).min(1).max(LOCK_CODES_PER_KEY_MAX),
    hostDescription: z.string().max(200).optional(),
    /** `ms` since the epoch, the signing node's clock. */
    createdAt: z.number().int().nonnegative().max(8_640_000_000_000_000),
    /** The member whose identity key signed it. */
    signedBy: z.string().min(1).max(64),
  })
  .strict();
export type ActivationRequestBody = z.infer<typeof activationRequestBodySchema>;

/** The request file: the request and its signature. */
export const activationRequestFileSchema = z
  .object({
    format: z.literal(ACTIVATION_REQUEST_FORMAT),
    version: z.literal(1),
    request: activationRequestBodySchema,
    /** Ed25519 signature (base64url) of activationRequestBytes(request) by `signedBy`'s key. */
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, '64 bytes of base64url'),
  })
  .strict();
export type ActivationRequestFile = z.infer<typeof activationRequestFileSchema>;

/** The key file: the key center's answer to a request file, as `floe license import --key-file` reads it. */
export const licenseKeyFileSchema = activationAnswerSchema
  .extend({
    format: z.literal(LICENSE_KEY_FILE_FORMAT),
    /** Where it came from: the key center's address, as it was reached. */
    keyCenterUrl: z.string().max(500).regex(/^https?:\/\/\S+$/, 'an http(s) URL'),
  })
  .strict();
export type LicenseKeyFile = z.infer<typeof licenseKeyFileSchema>;

/** The bytes a request's signature covers: its canonical JSON. */
export function activationRequestBytes(request: ActivationRequestBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(activationRequestBodySchema.parse(request)));
}

/** The request file of `request` signed with `signature` (64 bytes). */
export function formatActivationRequestFile(request: ActivationRequestBody, signature: Uint8Array): ActivationRequestFile {
  return { format: ACTIVATION_REQUEST_FORMAT, version: 1, request: activationRequestBodySchema.parse(request), signature: encodeBase64url(signature) };
}

/** What verifyActivationRequestFile() found. */
export type ActivationRequestVerdict =
  | { ok: true; request: ActivationRequestBody; lockCodes: string[] }
  | { ok: false; code: ActivationRequestErrorCode; message: string };

/**
 * Checks a request file (its text, or its parsed JSON): its shape, that the
 * signer is a member and signed exactly this request, and that every
 * tolerant lock code belongs to its member's key. Answers the request and
 * its lock codes. Never throws.
 */
export function verifyActivationRequestFile(input: unknown): ActivationRequestVerdict {
  let json = input;
  if (typeof input === 'string') {
    if (input.length > ACTIVATION_REQUEST_CHARS_MAX) return malformed(`the file has ${input.length} characters; a request file has at most ${ACTIVATION_REQUEST_CHARS_MAX}`);
    try {
      json = JSON.parse(input) as unknown;
    } catch {
      return malformed('the file is not JSON');
    }
  }
  const parsed = activationRequestFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return malformed(`${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'not a request file'}`);
  }
  const { request } = parsed.data;
  const ids = new Set(request.members.map((m) => m.nodeId));
  if (ids.size !== request.members.length) return malformed('a member is named twice');
  const signer = request.members.find((m) => m.nodeId === request.signedBy);
  if (signer === undefined) return { ok: false, code: 'REQUEST_SIGNATURE_INVALID', message: `it is signed by ${request.signedBy}, which is not among its members` };
  const key = decodeBase64url(signer.publicKey);
  const signature = decodeBase64url(parsed.data.signature);
  if (key === undefined || signature === undefined || !nacl.sign.detached.verify(activationRequestBytes(request), signature, key)) {
    return { ok: false, code: 'REQUEST_SIGNATURE_INVALID', message: `its signature by ${request.signedBy} does not match its content: the file was edited after the cluster wrote it` };
  }
  const lockCodes: string[] = [];
  for (const m of request.members) {
    const lock = parseLockCode(m.lockCode);
    if (!lock.ok) return malformed(`the lock code of ${m.nodeId}: ${lock.message}`);
    const memberKey = decodeBase64url(m.publicKey);
    const parts = lockCodeParts(lock.code);
    // A legacy (0.1) code digests the key with the machine inputs: it cannot be checked apart.
    if (parts !== undefined && (memberKey === undefined || parts.identity !== lockIdentityOf(memberKey))) {
      return { ok: false, code: 'REQUEST_LOCK_CODE_UNBOUND', message: `the lock code of ${m.nodeId} (${lock.code}) is not the code of its node key: the file was not written by that cluster` };
    }
    lockCodes.push(lock.code);
  }
  return { ok: true, request, lockCodes };
}

function malformed(why: string): ActivationRequestVerdict {
  return { ok: false, code: 'REQUEST_MALFORMED', message: `not a Floe activation request file: ${why}` };
}
