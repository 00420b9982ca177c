// The dialer's vouch in its upgrade request: "I am member D, dialing L, at
// time T", signed with D's node key, in the header x-floe-peer-token. It lets
// the listener tell a member's connection from a stranger's before the
// handshake (peer-auth.ts) has run: strangers share a few pre-auth slots per
// source address, a member gets slots of its own, so a flood of
// unauthenticated connections cannot keep a member out.
//
// The token only buys a pre-auth slot; the challenge–response handshake
// still proves identity and freshness on the connection. It names the
// listener, so it is useless against another node, and it is accepted only
// within UPGRADE_TOKEN_WINDOW_MS of the listener's clock: replayed by an
// on-path observer it can at most take the member's own slots for a while
// (use wss:// where that matters). A dialer whose clock is farther off is
// simply a stranger until its clock is fixed.
//
//   token = base64url(JSON {"v":1,"from":D,"to":L,"atMs":T}) "." base64url(sign_D(DOMAIN 0x00 json))
import type { KeyObject } from 'node:crypto';
import { verifySignature } from './peer-auth.ts';
import type { NodeId } from '../raft/types.ts';

/** The HTTP header carrying the token. */
export const UPGRADE_TOKEN_HEADER = 'x-floe-peer-token';
/** `ms`: how far a token's time may be from the listener's clock, either way. */
export const UPGRADE_TOKEN_WINDOW_MS = 10 * 60 * 1000;
/** Characters of a token the listener reads at most. */
export const UPGRADE_TOKEN_CHARS_MAX = 512;

const DOMAIN = 'floe/peer-upgrade/v1';

/** The bytes a dialer signs for `json`. */
function signedBytes(json: string): Buffer {
  return Buffer.from(`${DOMAIN}\0${json}`, 'utf8');
}

/** A token for `from` dialing `to` at `atMs`, signed by `sign` (the node key's signer). */
export function createUpgradeToken(from: NodeId, to: NodeId, atMs: number, sign: (message: Uint8Array) => Uint8Array): string {
  const json = JSON.stringify({ v: 1, from, to, atMs: Math.round(atMs) });
  return `${Buffer.from(json, 'utf8').toString('base64url')}.${Buffer.from(sign(signedBytes(json))).toString('base64url')}`;
}

/**
 * The member a token vouches for, or undefined when it vouches for none: not
 * a token, not for `self`, from no member (`keyOf` answers undefined), out of
 * the time window, or a signature that does not verify. Never throws.
 */
export function verifyUpgradeToken(
  token: unknown,
  self: NodeId,
  nowMs: number,
  keyOf: (nodeId: NodeId) => KeyObject | undefined,
): NodeId | undefined {
  if (typeof token !== 'string' || token.length > UPGRADE_TOKEN_CHARS_MAX) return undefined;
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const json = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
  let claim: unknown;
  try {
    claim = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof claim !== 'object' || claim === null) return undefined;
  const { v, from, to, atMs } = claim as Record<string, unknown>;
  if (v !== 1 || typeof from !== 'string' || to !== self || typeof atMs !== 'number' || !(Math.abs(atMs - nowMs) <= UPGRADE_TOKEN_WINDOW_MS)) return undefined;
  const key = keyOf(from);
  if (key === undefined) return undefined;
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  return verifySignature(key, signedBytes(json), signature) ? from : undefined;
}
