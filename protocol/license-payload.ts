// The signed content of a Floe license key: what a vendor's key center grants
// and what every server checks before it puts seats in a pool. The codec and
// signature check live in license-key.ts; this file is only the shape, shared
// by the key center, the daemon and the seat-pool state machine.
import { z } from 'zod';

/** Format version written into every payload; a verifier refuses any other. */
export const LICENSE_FORMAT_VERSION = 1;

/** Most lock codes one key may name: 1 (single server), 3 (redundant) or 5. */
export const LOCK_CODES_PER_KEY_MAX = 5;

/** `h`: the longest borrow a key may allow (a year and a day). */
export const BORROW_HOURS_MAX = 24 * 366;

/** `h`: a key's longest borrow when it allows borrowing and names no limit (FlexNet's default). */
export const BORROW_HOURS_DEFAULT = 168;

/** A feature (pool) or product name: what a client asks for in a checkout. */
export const featureNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash, underscore');

/** A product version: dot-separated non-negative integers ("29", "2024.1"). */
export const productVersionSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^\d{1,9}(\.\d{1,9}){0,3}$/, 'dot-separated integers');

export const licenseModelSchema = z.enum(['concurrent', 'authorized-user']);
export type LicenseModel = z.infer<typeof licenseModelSchema>;

const epochMs = z.number().int().nonnegative().max(8_640_000_000_000_000);

export const licensePayloadSchema = z
  .object({
    /** Format version: LICENSE_FORMAT_VERSION. */
    v: z.literal(LICENSE_FORMAT_VERSION),
    /** Unique id of this key, assigned by the key center. */
    licenseId: z.string().min(1).max(64),
    /** The authorization code (entitlement) this key was activated from. */
    authCode: z.string().min(1).max(64),
    /** Id of the vendor signing key (fingerprint of its public key). */
    vendorKeyId: z.string().min(1).max(64),
    /** Product name; for a bundle, the bundle's name. */
    product: featureNameSchema,
    /** Highest product version this key covers (a v30 seat serves a v29 client). */
    version: productVersionSchema,
    model: licenseModelSchema,
    /** Concurrent seats, or for the authorized-user model the number of named users. */
    seats: z.number().int().min(1).max(1_000_000),
    /** Bundle components this key grants, each a pool of its own; empty: the product itself. */
    components: z.array(featureNameSchema).max(64),
    /** When the key center issued it, ms since the Unix epoch. */
    issuedAt: epochMs,
    /** Seats are not in force before this instant, ms since the Unix epoch. */
    notBefore: epochMs,
    /** End of a temporary license, ms since the Unix epoch; absent for a perpetual one. */
    expiresAt: epochMs.optional(),
    /** Lock codes of the servers this key may run on: 1, 3 (redundant) or 5, distinct. */
    lockCodes: z.array(z.string().min(1).max(64)).min(1).max(LOCK_CODES_PER_KEY_MAX),
    /**
     * How the tolerant lock codes named here match a node: 'tolerant' (the
     * default when absent) takes its identity and 2 of its 3 machine inputs
     * (machine-id, MACs, hostname); 'exact' takes all three. Legacy (0.1)
     * codes always match exactly. See lock-code-match.ts.
     */
    lockMatch: z.enum(['tolerant', 'exact']).optional(),
    /** `s`: how long a checked-in seat stays held for its last user (FlexNet's LINGER); 0 for none. */
    lingerSeconds: z.number().int().min(0).max(7 * 24 * 3600),
    /** Authorized-user model: on how many hosts at once one named user may hold a seat. */
    hostsPerUserMax: z.number().int().min(1).max(64),
    /** Free text such as "license server, Minneapolis data center". */
    hostDescription: z.string().max(200).optional(),
    orderNumber: z.string().max(64).optional(),
    comment: z.string().max(500).optional(),
    /**
     * The licenseId of the key this one replaces (a rehost to new servers, a
     * renewal, seats added to a host). A server that installs this key removes
     * that one in the same log entry and refuses it from then on (SUPERSEDED);
     * the two never add their seats up.
     */
    supersedes: z.string().min(1).max(64).optional(),
    /**
     * Borrowing (commuter use): a client may take a seat of this key offline
     * for up to borrowHoursMax hours (docs/client.md, borrow). Absent or
     * false: its seats cannot be borrowed.
     */
    borrowAllowed: z.boolean().optional(),
    /** `h`: the longest borrow when allowed; absent: BORROW_HOURS_DEFAULT. */
    borrowHoursMax: z.number().int().min(1).max(BORROW_HOURS_MAX).optional(),
  })
  .strict()
  .refine((p) => [1, 3, 5].includes(p.lockCodes.length), {
    message: 'a key names 1, 3 or 5 lock codes',
    path: ['lockCodes'],
  })
  .refine((p) => new Set(p.lockCodes).size === p.lockCodes.length, {
    message: 'lock codes must be distinct',
    path: ['lockCodes'],
  })
  .refine((p) => p.expiresAt === undefined || p.expiresAt > p.notBefore, {
    message: 'expiresAt must come after notBefore',
    path: ['expiresAt'],
  })
  .refine((p) => p.supersedes !== p.licenseId, {
    message: 'a key cannot supersede itself',
    path: ['supersedes'],
  });

/** The verified content of a license key. */
export type LicensePayload = z.infer<typeof licensePayloadSchema>;

/** The pools (feature names) a key puts seats into: its components, or its product. */
export function licenseFeatures(payload: LicensePayload): string[] {
  return payload.components.length > 0 ? [...payload.components] : [payload.product];
}
