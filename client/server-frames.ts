// How the SDK reads the frames a server sends. The schemas live in
// protocol/wire.ts (one home, shared with the server, which builds its frames
// to the same types); this file derives the SDK's lenient reading of them:
// fields CONTRACT.md's examples leave out (a lease's feature, version, count
// and fencing token; hello's resumed and leases) may be absent, and an error
// or push may leave out its human text. Unknown extra fields are accepted (a
// newer server may add some). The SDK checks every incoming frame against
// these, so a server bug becomes a PROTOCOL_ERROR instead of an undefined
// deep inside.
import { z } from 'zod';
import {
  borrowReplySchema as wireBorrowReplySchema,
  checkoutReplySchema as wireCheckoutReplySchema,
  heartbeatReplySchema as wireHeartbeatReplySchema,
  helloReplySchema as wireHelloReplySchema,
  leaseInfoSchema as wireLeaseInfoSchema,
  revokedLeaseSchema as wireRevokedLeaseSchema,
  serverPushSchema,
  serverPushTypes,
  serverReplySchema,
  wireErrorSchema as wireWireErrorSchema,
} from '../protocol/wire.ts';

/** A lease as replies and pushes carry it; the fields the contract's examples omit may be absent. */
export const leaseInfoSchema = wireLeaseInfoSchema.partial({ feature: true, version: true, count: true, fencingToken: true });

const wireErrorSchema = wireWireErrorSchema.extend({ message: wireWireErrorSchema.shape.message.default('') });

/** Every reply: `ok` tells success from failure. */
export const replyFrameSchema = z.union([serverReplySchema.options[0], serverReplySchema.options[1].extend({ error: wireErrorSchema })]);

/** A lease that ended and why (a `revoked` push, an entry of hello's `revoked`); the human text and code may be absent. */
const revokedLeaseSchema = wireRevokedLeaseSchema.extend({
  feature: wireRevokedLeaseSchema.shape.feature.default(''),
  reason: wireRevokedLeaseSchema.shape.reason.default(''),
  code: wireRevokedLeaseSchema.shape.code.default(''),
});

/** Hello's answer. `resumed` may be absent (resumed exactly when the session id is the one asked for); `leases` too (the SDK keeps what it knows). */
export const helloReplySchema = wireHelloReplySchema.extend({
  resumed: wireHelloReplySchema.shape.resumed.optional(),
  servers: wireHelloReplySchema.shape.servers.default([]),
  leases: z.array(leaseInfoSchema).max(100_000).optional(),
  // Why leases ended while the client was away: a courtesy beside `leases`, so a malformed list is ignored, never a failed hello.
  revoked: z.array(revokedLeaseSchema).max(64).optional().catch(undefined),
});

/** Checkout's answer: a grant (`queued` false or absent) or a place in the queue. */
export const checkoutReplySchema = z.union([
  wireCheckoutReplySchema.options[0].partial({ requestId: true }),
  leaseInfoSchema.extend({ queued: z.literal(false).optional() }),
]);

/** Borrow's answer: the lease (as leaseInfoSchema reads it), when the borrow began, the token and the key that signed it. */
export const borrowReplySchema = leaseInfoSchema.extend({
  borrowedAt: wireBorrowReplySchema.shape.borrowedAt,
  token: wireBorrowReplySchema.shape.token,
  publicKey: wireBorrowReplySchema.shape.publicKey,
});

/** Heartbeat's answer; a server may tell the leases' new deadline. */
export const heartbeatReplySchema = wireHeartbeatReplySchema.partial();

const [grantedPush, queuePush, queueTimeoutPush, revokedPush, leaderPush] = serverPushSchema.options;

/** Frames the server sends unasked. Unknown `type`s are ignored by the SDK (forward compatibility). */
export const pushFrameSchema = z.discriminatedUnion('type', [
  leaseInfoSchema.extend({ type: grantedPush.shape.type, requestId: grantedPush.shape.requestId }),
  queuePush.extend({ feature: queuePush.shape.feature.default('') }),
  queueTimeoutPush.extend({ feature: queueTimeoutPush.shape.feature.default(''), error: wireErrorSchema }),
  revokedLeaseSchema.extend({ type: revokedPush.shape.type }),
  leaderPush,
]);

/** The push types this SDK understands. */
export const knownPushTypes: ReadonlySet<string> = serverPushTypes;

export type ReplyFrame = z.infer<typeof replyFrameSchema>;
export type HelloReplyFrame = z.infer<typeof helloReplySchema>;
export type CheckoutReplyFrame = z.infer<typeof checkoutReplySchema>;
export type BorrowReplyFrame = z.infer<typeof borrowReplySchema>;
export type PushFrame = z.infer<typeof pushFrameSchema>;
export type LeaseInfoFrame = z.infer<typeof leaseInfoSchema>;
export type RevokedLeaseFrame = z.infer<typeof revokedLeaseSchema>;
