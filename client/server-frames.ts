// Schemas of the frames a server sends: replies (with the request's `id`) and
// pushes (with a `type`, no `id`). protocol/wire.ts declares these as types
// only; the SDK checks every incoming frame against these schemas so a
// server bug becomes a PROTOCOL_ERROR instead of an undefined deep inside.
// Unknown extra fields are accepted (a newer server may add some).
import { z } from 'zod';

const idText = z.string().min(1).max(64);
const epochMs = z.number().finite().nonnegative();

/** A lease as replies and pushes carry it; fields the contract's examples omit get defaults. */
export const leaseInfoSchema = z.object({
  leaseId: idText,
  feature: z.string().max(64).optional(),
  version: z.string().max(32).optional(),
  count: z.number().int().min(1).optional(),
  expiresAt: epochMs,
  fencingToken: z.number().int().nonnegative().optional(),
});

const wireErrorSchema = z.object({ code: z.string().min(1).max(64), message: z.string().max(1024).default('') });

/** Every reply: `ok` tells success from failure. */
export const replyFrameSchema = z.union([
  z.looseObject({ id: z.number().int().nonnegative(), ok: z.literal(true) }),
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(false), error: wireErrorSchema }),
]);

/** Hello's answer. `resumed` may be absent (a new session). */
export const helloReplySchema = z.object({
  sessionId: idText,
  /** A new session's secret: the next hello that resumes it must send it. Absent from older servers and on a resume. */
  sessionSecret: z.string().min(1).max(128).optional(),
  /** Absent (older servers): resumed exactly when the session id is the one asked for. */
  resumed: z.boolean().optional(),
  heartbeatMs: z.number().int().positive(),
  leaseTtlMs: z.number().int().positive(),
  servers: z.array(z.string().min(1).max(2048)).max(64).default([]),
  /** Absent: the server does not list them (the SDK then keeps what it knows). */
  leases: z.array(leaseInfoSchema).max(100_000).optional(),
});

/** Checkout's answer: a grant (`queued` false or absent) or a place in the queue. */
export const checkoutReplySchema = z.union([
  z.object({ queued: z.literal(true), requestId: z.string().optional(), position: z.number().int().min(0) }),
  leaseInfoSchema.extend({ queued: z.literal(false).optional() }),
]);

/** Heartbeat's answer; a server may tell the leases' new deadline. */
export const heartbeatReplySchema = z.object({ expiresAt: epochMs.optional() });

/** Frames the server sends unasked. Unknown `type`s are ignored by the SDK (forward compatibility). */
export const pushFrameSchema = z.discriminatedUnion('type', [
  leaseInfoSchema.extend({ type: z.literal('granted'), requestId: z.string().min(1) }),
  z.object({ type: z.literal('queue'), requestId: z.string().min(1), feature: z.string().default(''), position: z.number().int().min(0) }),
  z.object({ type: z.literal('queue-timeout'), requestId: z.string().min(1), feature: z.string().default(''), error: wireErrorSchema }),
  z.object({
    type: z.literal('revoked'),
    leaseId: idText,
    feature: z.string().default(''),
    /** Human sentence. */
    reason: z.string().default(''),
    /** UPPER_CASE form of the pool's revoke reason (LEASE_EXPIRED, FORCE_CHECKIN, …). */
    code: z.string().default(''),
  }),
]);

/** The push types this SDK understands. */
export const knownPushTypes: ReadonlySet<string> = new Set(['granted', 'queue', 'queue-timeout', 'revoked']);

export type ReplyFrame = z.infer<typeof replyFrameSchema>;
export type HelloReplyFrame = z.infer<typeof helloReplySchema>;
export type CheckoutReplyFrame = z.infer<typeof checkoutReplySchema>;
export type PushFrame = z.infer<typeof pushFrameSchema>;
export type LeaseInfoFrame = z.infer<typeof leaseInfoSchema>;
