// The forwarder's app payloads: what a follower sends the leader (its
// unstamped commands, each tagged) and what the leader answers when it cannot
// take them (a nack). They arrive from authenticated peers, but a forwarded
// tag and command end up in the log that every node applies: a payload that
// is not exactly this shape is dropped here, so no malformed entry is ever
// proposed (a tag with a newline would make the entry unreadable on apply).
import type { NodeId } from '../raft/types.ts';
import type { UnstampedLogCommand } from './command-codec.ts';

/** A forwarder payload, as it travels (JSON text in an app frame). */
export type ForwarderPayload =
  | { readonly k: 'fwd'; readonly m: readonly (readonly [string, UnstampedLogCommand])[] }
  | { readonly k: 'nack'; readonly t: readonly string[]; readonly leader: NodeId; readonly why: string };

/** Characters of a tag, at most (a node id, a dot, 8 base64url characters, a dot, a base-36 counter). */
export const FORWARD_TAG_CHARS_MAX = 128;

/**
 * The command types a follower may forward: every pool and admin-state
 * command (the leader stamps `at`). A Record over the union, so a new command type that is not
 * listed here fails the type check instead of being dropped in a cluster.
 */
const FORWARDABLE: Readonly<Record<UnstampedLogCommand['type'], true>> = {
  'license-install': true,
  'license-remove': true,
  'session-open': true,
  'session-close': true,
  checkout: true,
  checkin: true,
  'checkout-cancel': true,
  renew: true,
  expire: true,
  'force-checkin': true,
  'users-assign': true,
  'pool-configure': true,
  grace: true,
  'token-create': true,
  'token-revoke': true,
  'token-use': true,
  'audit-note': true,
  'policy-set': true,
  borrow: true,
  return: true,
  'borrow-key-set': true,
};
const FORWARDABLE_TYPES: ReadonlySet<string> = new Set(Object.keys(FORWARDABLE));

const decoder = new TextDecoder();

/** True for a tag as forwarders write them: printable ASCII, no newline, bounded. */
function isTag(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= FORWARD_TAG_CHARS_MAX && /^[\x21-\x7e]+$/.test(value);
}

function isForwardableCommand(value: unknown): value is UnstampedLogCommand {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const type = (value as Record<string, unknown>)['type'];
  return typeof type === 'string' && FORWARDABLE_TYPES.has(type) && !Object.hasOwn(value, 'at');
}

/** The payload in `bytes`, or why it is dropped; never throws. */
export function decodeForwarderPayload(bytes: Uint8Array): { readonly ok: true; readonly payload: ForwarderPayload } | { readonly ok: false; readonly message: string } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, message: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'not an object' };
  const v = value as Record<string, unknown>;
  if (v['k'] === 'fwd') {
    const m = v['m'];
    if (!Array.isArray(m)) return { ok: false, message: 'a forward without its commands' };
    for (const item of m as unknown[]) {
      if (!Array.isArray(item) || item.length !== 2 || !isTag(item[0]) || !isForwardableCommand(item[1])) {
        return { ok: false, message: 'a forward that is not [tag, command]' };
      }
    }
    return { ok: true, payload: { k: 'fwd', m: m as [string, UnstampedLogCommand][] } };
  }
  if (v['k'] === 'nack') {
    const t = v['t'];
    const leader = v['leader'];
    const why = v['why'];
    if (!Array.isArray(t) || !(t as unknown[]).every(isTag) || typeof leader !== 'string' || typeof why !== 'string') {
      return { ok: false, message: 'a nack that is not {t: tags, leader, why}' };
    }
    return { ok: true, payload: { k: 'nack', t: t as string[], leader, why } };
  }
  return { ok: false, message: 'a payload of unknown kind' };
}
