// The client protocol: JSON text frames over one WebSocket per client.
// One source of truth for both sides: the daemon validates every incoming
// frame with these schemas and builds its replies and pushes to the server
// frame schemas below; the SDK builds its requests from the same types and
// reads the server's frames with those schemas (client/server-frames.ts).
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

// ---- Server frames: replies (with the request's `id`) and pushes (with a
// `type`, no `id`). The server builds them to these types; the SDK reads
// them with these schemas (client/server-frames.ts derives the lenient
// reading: fields CONTRACT.md's examples leave out may be absent). Bounds on
// lengths and counts guard the SDK against a hostile server.

const idText = z.string().min(1).max(64);
/** Instants: `ms` since the Unix epoch on the leader's clock. */
const epochMs = z.number().finite().nonnegative();

/** An error as replies and pushes carry it. */
export const wireErrorSchema = z.object({ code: z.string().min(1).max(64), message: z.string().max(1024) });
export type WireError = Readonly<z.infer<typeof wireErrorSchema>>;

/** A lease as the client sees it. */
export const leaseInfoSchema = z.object({
  leaseId: idText,
  feature: z.string().max(64),
  version: z.string().max(32),
  count: z.number().int().min(1),
  /** `ms` since the Unix epoch (leader's clock) after which the seat is lost without a heartbeat. */
  expiresAt: epochMs,
  /** Strictly increasing per grant (the log index): lets a resource guard reject a stale holder. */
  fencingToken: z.number().int().nonnegative(),
});
export type LeaseInfo = Readonly<z.infer<typeof leaseInfoSchema>>;

/** A reply frame: `id` echoes the request's; `ok` tells success (with the request's fields) from failure. */
export const serverReplySchema = z.union([
  z.looseObject({ id: z.number().int().nonnegative(), ok: z.literal(true) }),
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(false), error: wireErrorSchema }),
]);
export type ServerReply = z.infer<typeof serverReplySchema>;

/** Hello's answer. */
/** A lease that ended without the client asking, and why: the `revoked` push, and hello's `revoked` list. */
export const revokedLeaseSchema = z.object({
  leaseId: idText,
  feature: z.string().max(64),
  /** Human sentence. */
  reason: z.string().max(1024),
  /** UPPER_CASE form of the pool's revoke reason (LEASE_EXPIRED, FORCE_CHECKIN, …). */
  code: z.string().max(64),
});
export type RevokedLease = Readonly<z.infer<typeof revokedLeaseSchema>>;

export const helloReplySchema = z.object({
  sessionId: idText,
  /** A new session's secret: resuming it needs it. Absent when the session was resumed. */
  sessionSecret: z.string().min(1).max(128).optional(),
  resumed: z.boolean(),
  heartbeatMs: z.number().int().positive(),
  leaseTtlMs: z.number().int().positive(),
  /** Client URLs of every node of the cluster, for failover. */
  servers: z.array(z.string().min(1).max(2048)).max(64).readonly(),
  /**
   * The client URL (one of `servers`) of the node that leads now, where a
   * session is served without a forward; absent when this node cannot tell
   * (no leader, or its URL is not in `servers`). Clients of protocol 1 that
   * predate it ignore it.
   */
  leader: z.string().min(1).max(2048).optional(),
  /** Leases the resumed session still holds (none for a new one). */
  leases: z.array(leaseInfoSchema).max(100_000).readonly(),
  /**
   * A resumed session's leases that ended in the last minutes, with the
   * reason its `revoked` push gave (a license admin's, say), newest last:
   * a client that was away when they ended tells its application why.
   * Absent when there is none. Clients that predate it ignore it.
   */
  revoked: z.array(revokedLeaseSchema).max(64).readonly().optional(),
});
export type HelloReply = Readonly<z.infer<typeof helloReplySchema>>;

/** Checkout's answer: a grant, or a place in the queue. */
export const checkoutReplySchema = z.union([
  z.object({ queued: z.literal(true), requestId: requestIdSchema, position: z.number().int().min(0) }),
  leaseInfoSchema.extend({ queued: z.literal(false) }),
]);
export type CheckoutReply = Readonly<z.infer<typeof checkoutReplySchema>>;

/** The answer to a borrow: the lease and the token to keep (with the key that verifies it). */
export const borrowReplySchema = leaseInfoSchema.extend({
  /** `ms` since the epoch the borrow began. */
  borrowedAt: epochMs,
  /** The borrow token (borrow-token.ts): keep it; verifyBorrowToken checks it offline. */
  token: z.string().min(1).max(BORROW_TOKEN_CHARS_MAX),
  /** The cluster's borrow public key (base64url of 32 bytes) that signed it. */
  publicKey: z.string().min(1).max(128),
});
export type BorrowReply = Readonly<z.infer<typeof borrowReplySchema>>;

/** The answer to a return: the lease whose seat is back in the pool. */
export const returnReplySchema = z.object({ leaseId: idText });
export type ReturnReply = Readonly<z.infer<typeof returnReplySchema>>;

/** Heartbeat's answer: the session's leases' new deadline. */
export const heartbeatReplySchema = z.object({ expiresAt: epochMs });
export type HeartbeatReply = Readonly<z.infer<typeof heartbeatReplySchema>>;

/** Status's answer (informational). */
export const statusReplySchema = z.object({
  sessionId: idText,
  leases: z.array(leaseInfoSchema).max(100_000).readonly(),
  nodeId: z.string().max(64),
  role: z.string().max(32),
  leaderId: z.string().max(64),
});
export type StatusReply = Readonly<z.infer<typeof statusReplySchema>>;

/** Frames the server sends unasked (no `id`). A client ignores `type`s it does not know. */
export const serverPushSchema = z.discriminatedUnion('type', [
  leaseInfoSchema.extend({ type: z.literal('granted'), requestId: requestIdSchema }),
  z.object({ type: z.literal('queue'), requestId: requestIdSchema, feature: z.string().max(64), position: z.number().int().min(0) }),
  z.object({ type: z.literal('queue-timeout'), requestId: requestIdSchema, feature: z.string().max(64), error: wireErrorSchema }),
  revokedLeaseSchema.extend({ type: z.literal('revoked') }),
  /** Leadership moved: `leader` is the new leader's client URL (one of hello's `servers`). */
  z.object({ type: z.literal('leader'), leader: z.string().min(1).max(2048) }),
]);
export type ServerPush = z.infer<typeof serverPushSchema>;

/** The push types of this protocol version. */
export const serverPushTypes: ReadonlySet<ServerPush['type']> = new Set(['granted', 'queue', 'queue-timeout', 'revoked', 'leader']);
