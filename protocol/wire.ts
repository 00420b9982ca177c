// The client protocol: JSON text frames over one WebSocket per client.
// One source of truth for both sides: the daemon validates every incoming
// frame with these schemas, the SDK builds its frames from the same types.
// docs/protocol.md describes every message, field and error code.
import { z } from 'zod';
import { BORROW_TOKEN_CHARS_MAX } from './borrow-token.ts';
import { BORROW_HOURS_MAX, featureNameSchema, productVersionSchema } from './license-payload.ts';

/** The protocol version a client states in `hello`. */
export const PROTOCOL_VERSION = 1;

/** Largest frame a server accepts, bytes; bigger frames close the socket (1009). */
export const FRAME_BYTES_MAX = 16 * 1024;

/** Client-chosen id for an idempotent request: a UUID or any 8–64 char token. */
export const requestIdSchema = z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/);

/** A client's stable identity across reconnects (a UUID it keeps). */
export const clientIdSchema = z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/);

/** The secret that owns a session (base64url), told once, in the hello reply that opened it. */
export const sessionSecretSchema = z.string().min(16).max(128).regex(/^[A-Za-z0-9_-]+$/);

const shortText = z.string().min(1).max(128);
const frameId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const helloRequestSchema = z
  .object({
    id: frameId,
    type: z.literal('hello'),
    protocol: z.number().int(),
    clientId: clientIdSchema,
    user: shortText,
    host: shortText,
    app: shortText,
    /** Resume this session (after a reconnect or a failover) instead of opening a new one. */
    sessionId: z.string().min(1).max(64).optional(),
    /** The secret the hello that opened `sessionId` answered: resuming needs it. */
    sessionSecret: sessionSecretSchema.optional(),
  })
  .strict();

export const checkoutRequestSchema = z
  .object({
    id: frameId,
    type: z.literal('checkout'),
    requestId: requestIdSchema,
    feature: featureNameSchema,
    /** Lowest version acceptable; any licensed version ≥ it serves. Absent: any version. */
    version: productVersionSchema.optional(),
    count: z.number().int().min(1).max(1000).default(1),
    /** Queue when no seat is free, instead of answering NO_SEATS. */
    wait: z.boolean().default(false),
    /** `ms`: how long to stay queued before QUEUE_TIMEOUT; server default when absent. */
    waitMs: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
  })
  .strict();

export const checkinRequestSchema = z
  .object({
    id: frameId,
    type: z.literal('checkin'),
    requestId: requestIdSchema,
    leaseId: z.string().min(1).max(64),
  })
  .strict();

/** Cancels a queued checkout (identified by its requestId). */
export const cancelRequestSchema = z
  .object({ id: frameId, type: z.literal('cancel'), requestId: requestIdSchema })
  .strict();

/**
 * Takes one seat offline for `hours` (fractions allowed): the reply carries a
 * borrow token signed with the cluster's key and bound to `fingerprint`.
 */
export const borrowRequestSchema = z
  .object({
    id: frameId,
    type: z.literal('borrow'),
    requestId: requestIdSchema,
    feature: featureNameSchema,
    version: productVersionSchema.optional(),
    hours: z.number().positive().max(BORROW_HOURS_MAX),
    /** This machine's fingerprint (the SDK's machineFingerprint()). */
    fingerprint: z.string().min(1).max(128),
  })
  .strict();

/** Gives a borrowed seat back early, from any node: the token proves the borrow. */
export const returnRequestSchema = z
  .object({
    id: frameId,
    type: z.literal('return'),
    requestId: requestIdSchema,
    token: z.string().min(1).max(BORROW_TOKEN_CHARS_MAX),
  })
  .strict();

export const heartbeatRequestSchema = z.object({ id: frameId, type: z.literal('heartbeat') }).strict();

export const statusRequestSchema = z.object({ id: frameId, type: z.literal('status') }).strict();

/** Every request a client may send; anything else is BAD_REQUEST. */
export const clientRequestSchema = z.discriminatedUnion('type', [
  helloRequestSchema,
  checkoutRequestSchema,
  checkinRequestSchema,
  cancelRequestSchema,
  heartbeatRequestSchema,
  statusRequestSchema,
  borrowRequestSchema,
  returnRequestSchema,
]);

/** Each request's schema by its `type`. */
const requestSchemas = {
  hello: helloRequestSchema,
  checkout: checkoutRequestSchema,
  checkin: checkinRequestSchema,
  cancel: cancelRequestSchema,
  heartbeat: heartbeatRequestSchema,
  status: statusRequestSchema,
  borrow: borrowRequestSchema,
  return: returnRequestSchema,
} as const satisfies Record<z.infer<typeof clientRequestSchema>['type'], z.ZodType>;

/** The `type` of every request a client may send. */
export const clientRequestTypes = Object.keys(requestSchemas) as readonly (keyof typeof requestSchemas)[];

/** The schema of requests of `type` (parse-client-frame.ts checks the type first). */
export function requestSchemaOf<T extends keyof typeof requestSchemas>(type: T): (typeof requestSchemas)[T] {
  return requestSchemas[type];
}

export type HelloRequest = z.infer<typeof helloRequestSchema>;
export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;
export type CheckinRequest = z.infer<typeof checkinRequestSchema>;
export type CancelRequest = z.infer<typeof cancelRequestSchema>;
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;
export type StatusRequest = z.infer<typeof statusRequestSchema>;
export type BorrowRequest = z.infer<typeof borrowRequestSchema>;
export type ReturnRequest = z.infer<typeof returnRequestSchema>;
export type ClientRequest = z.infer<typeof clientRequestSchema>;
/** A request as the SDK writes it (defaults may be omitted). */
export type ClientRequestInput = z.input<typeof clientRequestSchema>;

/**
 * Every error code the client protocol uses. Stable: clients switch on them.
 * The meaning of each is in docs/protocol.md.
 */
export const wireErrorCodes = [
  'BAD_REQUEST',
  'UNSUPPORTED_PROTOCOL',
  'HELLO_REQUIRED',
  'FRAME_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'SESSION_NOT_FOUND',
  'NO_SEATS',
  'UNKNOWN_FEATURE',
  'LEASE_NOT_FOUND',
  'NOT_AUTHORIZED_USER',
  'QUEUE_FULL',
  'QUEUE_TIMEOUT',
  'LIMIT_REACHED',
  'LICENSE_NOT_FOR_THIS_SERVER',
  'LICENSE_QUORUM_LOST',
  'POLICY_EXCLUDED',
  'POLICY_MAX',
  'BORROW_NOT_ALLOWED',
  'BORROW_TOO_LONG',
  'BORROW_LIMIT_REACHED',
  'LEASE_BORROWED',
  'LEASE_NOT_BORROWED',
  'BORROW_TOKEN_MALFORMED',
  'BORROW_TOKEN_SIGNATURE_INVALID',
  'INTERNAL',
] as const;

export type WireErrorCode = (typeof wireErrorCodes)[number] | (string & {});

export interface WireError {
  readonly code: WireErrorCode;
  readonly message: string;
}

/** A lease as the client sees it. */
export interface LeaseInfo {
  readonly leaseId: string;
  readonly feature: string;
  readonly version: string;
  readonly count: number;
  /** ms since the Unix epoch (leader's clock) after which the seat is lost without a heartbeat. */
  readonly expiresAt: number;
  /** Strictly increasing per grant (the log index): lets a resource guard reject a stale holder. */
  readonly fencingToken: number;
}

export type HelloReply = {
  readonly sessionId: string;
  /** A new session's secret (resuming it needs it); absent when the session was resumed. */
  readonly sessionSecret?: string;
  readonly resumed: boolean;
  readonly heartbeatMs: number;
  readonly leaseTtlMs: number;
  /** Client URLs of every node of the cluster, for failover. */
  readonly servers: readonly string[];
  /** Leases the resumed session still holds. */
  readonly leases: readonly LeaseInfo[];
};

/** The answer to a borrow: the lease and the token to keep (with the key that verifies it). */
export type BorrowReply = LeaseInfo & {
  /** `ms` since the epoch the borrow began. */
  readonly borrowedAt: number;
  /** The borrow token (borrow-token.ts): keep it; verifyBorrowToken checks it offline. */
  readonly token: string;
  /** The cluster's borrow public key (base64url) that signed it. */
  readonly publicKey: string;
};

export type CheckoutReply =
  | ({ readonly queued: false } & LeaseInfo)
  | { readonly queued: true; readonly requestId: string; readonly position: number };

/** A reply frame: `id` echoes the request's. */
export type ServerReply =
  | ({ readonly id: number; readonly ok: true } & Record<string, unknown>)
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** Frames the server sends unasked (no `id`). */
export type ServerPush =
  | ({ readonly type: 'granted'; readonly requestId: string } & LeaseInfo)
  | { readonly type: 'queue'; readonly requestId: string; readonly feature: string; readonly position: number }
  | { readonly type: 'queue-timeout'; readonly requestId: string; readonly feature: string; readonly error: WireError }
  | { readonly type: 'revoked'; readonly leaseId: string; readonly feature: string; readonly reason: string; readonly code: string };
