// What the pool remembers of each client's requests, so a retry gets the
// first answer: a ring of (requestId, request key, reply) per client, bounded
// per client and in clients. A retry repeats the same request; a requestId
// reused for another request is refused (REQUEST_ID_REUSED).
import type { CheckinCommand, CheckoutCommand } from './commands.ts';
import type { ClientRequests, PoolState, Session } from './pool-state.ts';
import type { PoolError, PoolReply } from './results.ts';

/**
 * What makes two requests with one requestId the same request: the command's
 * type and the fields the client chose. Not `waitMs` nor `leaseTtlMs`: a
 * node fills them from its config when the client gives none, so a faithful
 * retry through another node may carry other values.
 */
export function requestKey(
  c: Pick<CheckoutCommand, 'type' | 'feature' | 'version' | 'count' | 'wait'> | Pick<CheckinCommand, 'type' | 'leaseId'>,
): string {
  return c.type === 'checkout' ? `checkout\u0000${c.feature}\u0000${c.version ?? ''}\u0000${c.count}\u0000${c.wait ? 1 : 0}` : `checkin\u0000${c.leaseId}`;
}

/** The refusal of a request whose requestId is remembered for a different request. Changes nothing. */
export function requestIdReused(requestId: string, firstKey: string): PoolError {
  const first = firstKey.slice(0, firstKey.indexOf('\u0000'));
  return {
    ok: false,
    code: 'REQUEST_ID_REUSED',
    message: `The requestId ${requestId} already answered a different ${first}: a retry must repeat the same request, and a new request needs a new requestId.`,
  };
}

/** The remembered reply to (clientId, requestId) when `key` matches the request it answered, or the REQUEST_ID_REUSED refusal; undefined when none is remembered. */
export function recall(state: PoolState, clientId: string, requestId: string, key: string): PoolReply | undefined {
  const c = state.remembered.get(clientId);
  return c === undefined ? undefined : recallIn(c, requestId, requestHash(requestId), key);
}

/**
 * A 30-bit FNV-1a hash of a request id (kept within V8's small integers, so
 * `ClientRequests.requestHashes` stays an unboxed array). Not for security:
 * only to skip string comparisons that cannot match.
 */
export function requestHash(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) h = Math.imul(h ^ requestId.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** The slot of `requestId`, whose `requestHash` is `h`, in `c`, or -1. */
function slotOf(c: ClientRequests, requestId: string, h: number): number {
  const hashes = c.requestHashes;
  for (let i = 0; i < hashes.length; i++) if (hashes[i] === h && c.requestIds[i] === requestId) return i;
  return -1;
}

/**
 * The reply remembered in `c` for `requestId` (whose `requestHash` is `h`)
 * when the request it answered has `key`; REQUEST_ID_REUSED when it answered
 * another; undefined when none is remembered.
 */
export function recallIn(c: ClientRequests | undefined, requestId: string, h: number, key: string): PoolReply | undefined {
  if (c === undefined) return undefined;
  const i = slotOf(c, requestId, h);
  if (i < 0) return undefined;
  const first = c.requestKeys[i] as string;
  return first === key ? c.replies[i] : requestIdReused(requestId, first);
}

/**
 * Remembers `reply` as the answer to (clientId, requestId), the request
 * `key`, replacing an earlier answer to the same request. Beyond their
 * limits, the client's oldest request is forgotten, and so is the client
 * first remembered (clients are not reordered by activity: that would cost
 * two map updates per command).
 */
export function remember(state: PoolState, clientId: string, requestId: string, key: string, reply: PoolReply): void {
  rememberIn(state, state.remembered.get(clientId), clientId, requestId, requestHash(requestId), key, reply);
}

/** The remembered requests of the session's client, or undefined when none; through the session's cache. */
export function sessionRequests(state: PoolState, session: Session): ClientRequests | undefined {
  const cached = session.requests;
  if (cached !== undefined && !cached.forgotten) return cached;
  const c = state.remembered.get(session.clientId);
  session.requests = c;
  return c;
}

/** An empty ring for `clientId`. */
export function emptyClientRequests(clientId: string): ClientRequests {
  return { clientId, requestIds: [], requestHashes: [], requestKeys: [], replies: [], next: 0, forgotten: false };
}

/** The remembered requests of `clientId`, created (forgetting the client first remembered beyond the limit) when absent. */
export function clientRequests(state: PoolState, clientId: string): ClientRequests {
  const all = state.remembered;
  let c = all.get(clientId);
  if (c === undefined) {
    if (all.size >= state.limits.clientsRememberedMax) {
      const oldest = all.entries().next();
      if (oldest.done !== true) {
        oldest.value[1].forgotten = true;
        all.delete(oldest.value[0]);
      }
    }
    c = emptyClientRequests(clientId);
    all.set(clientId, c);
  }
  return c;
}

/** `remember` into a client's requests already looked up (undefined: none yet); `h`: `requestHash(requestId)`. */
export function rememberIn(
  state: PoolState,
  held: ClientRequests | undefined,
  clientId: string,
  requestId: string,
  h: number,
  key: string,
  reply: PoolReply,
): void {
  // Serving a queue may have remembered other clients and so forgotten this one meanwhile.
  const c = held === undefined || held.forgotten ? clientRequests(state, clientId) : held;
  const i = slotOf(c, requestId, h);
  if (i >= 0) c.replies[i] = reply;
  else writeRequest(c, requestId, h, key, reply, state.limits.requestsPerClientRememberedMax);
}

/** Appends to the ring, overwriting its oldest slot when full; `h`: `requestHash(requestId)`. */
export function writeRequest(c: ClientRequests, requestId: string, h: number, key: string, reply: PoolReply, slotsMax: number): void {
  c.requestIds[c.next] = requestId;
  c.requestHashes[c.next] = h;
  c.requestKeys[c.next] = key;
  c.replies[c.next] = reply;
  c.next = c.next + 1 === slotsMax ? 0 : c.next + 1;
}

/** Forgets the answer to (clientId, requestId): a retry will be applied afresh. */
export function forget(state: PoolState, clientId: string, requestId: string): void {
  const c = state.remembered.get(clientId);
  if (c === undefined) return;
  if (slotOf(c, requestId, requestHash(requestId)) < 0) return;
  // Keep the ring's order: oldest first from `next`. Rebuild without the slot.
  const entries = orderedRequests(c).filter(([id]) => id !== requestId);
  c.requestIds.length = 0;
  c.requestHashes.length = 0;
  c.requestKeys.length = 0;
  c.replies.length = 0;
  c.next = 0;
  for (const [id, r, key] of entries) {
    c.requestIds.push(id);
    c.requestHashes.push(requestHash(id));
    c.requestKeys.push(key);
    c.replies.push(r);
  }
  c.next = entries.length;
}

/** A client's remembered requests, oldest first: [requestId, reply, requestKey]. */
export function orderedRequests(c: ClientRequests): [string, PoolReply, string][] {
  const out: [string, PoolReply, string][] = [];
  const n = c.requestIds.length;
  // While the ring is not full, `next` equals n and the oldest is slot 0.
  const start = c.next === n ? 0 : c.next;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    out.push([c.requestIds[i] as string, c.replies[i] as PoolReply, c.requestKeys[i] as string]);
  }
  return out;
}
