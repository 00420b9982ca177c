// Whether a node matches a lock code a license key names: the one rule,
// shared by the key check (license-key.ts), the node's per-key quorum
// (daemon/node/license-locks.ts) and `floe lockcode --explain`.
//
// A node presents two codes (NodeLockCodes): its tolerant code and its
// legacy (0.1) one. A key's tolerant code matches when the identity part is
// the node's and at least LOCK_INPUTS_MATCH_MIN of the three machine inputs
// are (all three under the key's `lockMatch: "exact"`); a legacy code, or any
// other text, matches only exactly. Peers state their codes in the signed
// handshake as one line (formatNodeLockCodes), at most 64 characters of
// letters, digits and dashes, so a node of 0.1 reads it without error.
import {
  LOCK_CODE_INPUTS,
  lockCodeParts,
  parseLockCode,
  type LockCodeForm,
  type LockCodeInput,
  type LockCodeParts,
} from './lock-code.ts';

/** Machine inputs of 3 that must match, besides the identity, under the tolerant rule. */
export const LOCK_INPUTS_MATCH_MIN = 2;

/** How a key's tolerant codes match: 'tolerant' (identity + 2 of 3 inputs, the default) or 'exact' (all three). */
export type LockMatchMode = 'tolerant' | 'exact';

/** The codes a node presents of itself. */
export interface NodeLockCodes {
  /** Its tolerant code (canonical), when it states one. */
  readonly tolerant: string | undefined;
  /** A code matched only as written: the legacy code (canonical), or the text a node (or a test) stated when it is no lock code. */
  readonly exact: string | undefined;
  /** The parts of `tolerant`, read once (matching compares them often). */
  readonly parts?: LockCodeParts | undefined;
}

/** `codes` with the parts of its tolerant code read. */
function withParts(tolerant: string | undefined, exact: string | undefined): NodeLockCodes {
  return { tolerant, exact, parts: tolerant === undefined ? undefined : lockCodeParts(tolerant) };
}

function partsOf(node: NodeLockCodes): LockCodeParts | undefined {
  return node.parts ?? (node.tolerant === undefined ? undefined : lockCodeParts(node.tolerant));
}

/** A lock code as a key names it, read once. */
export interface NamedLockCode {
  /** As the key wrote it. */
  readonly text: string;
  /** 'other': not a lock code of either form (matched only exactly). */
  readonly form: LockCodeForm | 'other';
  /** Canonical text (the written text for 'other'). */
  readonly code: string;
  readonly parts: LockCodeParts | undefined;
}

/** How one named code compares with a node: the verdict and, for a tolerant code, each part. */
export interface LockCodeMatch {
  readonly named: NamedLockCode;
  readonly matches: boolean;
  /** Tolerant codes only: whether the identity part is the node's. */
  readonly identity?: boolean;
  /** Tolerant codes only: whether each machine input is the node's. */
  readonly inputs?: Readonly<Record<LockCodeInput, boolean>>;
  /** Tolerant codes only: inputs that must match under the mode. */
  readonly inputsNeeded?: number;
}

/** Reads a named code (never throws). */
export function readNamedLockCode(text: string): NamedLockCode {
  const parsed = parseLockCode(text);
  if (!parsed.ok) return { text, form: 'other', code: text, parts: undefined };
  return { text, form: parsed.form, code: parsed.code, parts: parsed.form === 'tolerant' ? lockCodeParts(parsed.code) : undefined };
}

/** The one-line form a node states in its handshake: "<tolerant>-<legacy>", each without its dashes (56 characters). */
export function formatNodeLockCodes(codes: { readonly lockCode: string; readonly legacyLockCode: string }): string {
  return `${codes.lockCode.replaceAll('-', '')}-${codes.legacyLockCode.replaceAll('-', '')}`;
}

/**
 * Reads what a node states (formatNodeLockCodes, a single code of either form
 * as a node of 0.1 states it, or any other text, kept to match exactly).
 * Never throws.
 */
export function parseNodeLockCodes(text: string): NodeLockCodes {
  const halves = text.split('-');
  if (halves.length === 2) {
    const tolerant = parseLockCode(halves[0]);
    const legacy = parseLockCode(halves[1]);
    if (tolerant.ok && tolerant.form === 'tolerant' && legacy.ok && legacy.form === 'legacy') return withParts(tolerant.code, legacy.code);
  }
  const single = parseLockCode(text);
  if (single.ok) return single.form === 'tolerant' ? withParts(single.code, undefined) : withParts(undefined, single.code);
  return withParts(undefined, text === '' ? undefined : text);
}

/** How the named code `named` compares with the node presenting `node`, under `mode`. */
export function matchLockCode(named: NamedLockCode | string, node: NodeLockCodes, mode: LockMatchMode = 'tolerant'): LockCodeMatch {
  const n = typeof named === 'string' ? readNamedLockCode(named) : named;
  if (n.parts === undefined) return { named: n, matches: node.exact !== undefined && node.exact === n.code };
  const own = partsOf(node);
  const identity = own !== undefined && own.identity === n.parts.identity;
  const inputs = {} as Record<LockCodeInput, boolean>;
  let matched = 0;
  for (const input of LOCK_CODE_INPUTS) {
    inputs[input] = own !== undefined && own.inputs[input] === n.parts.inputs[input];
    if (inputs[input]) matched++;
  }
  const inputsNeeded = mode === 'exact' ? LOCK_CODE_INPUTS.length : LOCK_INPUTS_MATCH_MIN;
  return { named: n, matches: identity && matched >= inputsNeeded, identity, inputs, inputsNeeded };
}

/** True when the node presenting `node` matches one of `lockCodes` (a key's), under the key's `lockMatch`. */
export function matchesLockCodes(lockCodes: readonly string[], node: NodeLockCodes, mode: LockMatchMode | undefined): boolean {
  return lockCodes.some((code) => matchLockCode(code, node, mode ?? 'tolerant').matches);
}

/**
 * True when two nodes present the same lock code: the same identity in
 * their tolerant codes, or the same code matched exactly. Two members doing
 * so are refused (a copied node identity, or a cloned machine).
 */
export function sameNodeLockCodes(a: NodeLockCodes, b: NodeLockCodes): boolean {
  if (a.exact !== undefined && a.exact === b.exact) return true;
  const pa = partsOf(a);
  const pb = partsOf(b);
  return pa !== undefined && pb !== undefined && pa.identity === pb.identity;
}

/**
 * True when two codes (as typed into an activation) name the same node: equal
 * once read, or tolerant codes with the same identity. A key center refuses
 * such a pair (DUPLICATE_LOCK_CODE): one server would count twice.
 */
export function sameLockIdentity(a: string, b: string): boolean {
  const na = readNamedLockCode(a);
  const nb = readNamedLockCode(b);
  if (na.code === nb.code) return true;
  return na.parts !== undefined && nb.parts !== undefined && na.parts.identity === nb.parts.identity;
}
