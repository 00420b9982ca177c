// A lock code names one Floe node on one machine: the vendor's key center
// binds a license key to it, and a node runs only keys that name its code.
// This file is the pure derivation and the one parser of lock codes (the
// key center's activation and the node's checks both read codes here);
// daemon/identity/ gathers the inputs, lock-code-match.ts compares codes.
//
// The inputs are the machine's identifiers (machine-id, MACs of physical
// interfaces, hostname) and the node's own identity public key, kept in its
// data directory. The identity key makes three nodes on one machine three
// codes; the machine identifiers make a data directory copied to another
// machine a different code. Nothing in it is secret: digests of SHA-512
// (tweetnacl's, so protocol/ stays pure).
//
// Two forms, told apart by their length:
// - tolerant (30 symbols, since 0.2): the identity and each machine input
//   are digested apart, so a node still matches a key when its identity
//   matches and 2 of its 3 machine inputs do (a NIC or the hostname changed):
//       IIIII-IIIII-IIIII-MMMMM-NNNNN-HHHHC
//       identity (75 bits) · machine-id (25) · MACs (25) · hostname (20) · check
//   Each input digest is keyed by the identity too, so two nodes on one
//   machine share no part of their codes.
// - legacy (25 symbols, 0.1): one digest of everything (120 bits); it matches
//   only exactly. Keys issued against it keep working.
import nacl from 'tweetnacl';
import { bytesToCrockford, formatFriendlyCode, parseFriendlyCode } from './friendly-code.ts';

/** Symbols in a legacy (0.1) lock code, check character included (five groups of five). */
export const LOCK_CODE_CHARS = 25;

/** Symbols in a tolerant lock code, check character included (six groups of five). */
export const TOLERANT_LOCK_CODE_CHARS = 30;

/** Symbols of a tolerant code's identity part (its first three groups). */
export const LOCK_IDENTITY_CHARS = 15;

/** The machine inputs a tolerant code digests apart, in the order of their groups. */
export const LOCK_CODE_INPUTS = ['machine-id', 'macs', 'hostname'] as const;

/** One machine input of a tolerant lock code. */
export type LockCodeInput = (typeof LOCK_CODE_INPUTS)[number];

/** Symbols of each input's digest in a tolerant code (the hostname shares the last group with the check character). */
const INPUT_CHARS: Readonly<Record<LockCodeInput, number>> = { 'machine-id': 5, macs: 5, hostname: 4 };

/** The two forms of lock code. */
export type LockCodeForm = 'tolerant' | 'legacy';

/** What identifies the machine a node runs on. */
export interface MachineIdentifiers {
  /** Contents of /etc/machine-id (or dbus's copy); undefined where missing, as in many containers. */
  readonly machineId: string | undefined;
  /** MAC addresses of physical interfaces, any order or case ("aa:bb:cc:dd:ee:ff"). */
  readonly macs: readonly string[];
  readonly hostname: string;
}

/** The canonical form of the identifiers: trimmed, lower-case, MACs sorted and distinct. */
export function normalizeMachineIdentifiers(machine: MachineIdentifiers): MachineIdentifiers {
  const machineId = machine.machineId?.trim().toLowerCase();
  const macs = [...new Set(machine.macs.map((m) => m.trim().toLowerCase()).filter((m) => m !== ''))].sort();
  return {
    machineId: machineId === undefined || machineId === '' ? undefined : machineId,
    macs,
    hostname: machine.hostname.trim().toLowerCase(),
  };
}

function assertIdentityKey(identityPublicKey: Uint8Array): void {
  if (identityPublicKey.length !== nacl.sign.publicKeyLength) throw new Error('assert: identity public key must be 32 bytes');
}

/** SHA-512 of `label`'s JSON followed by the identity key. */
function digest(label: unknown, identityPublicKey: Uint8Array): Uint8Array {
  const textBytes = new TextEncoder().encode(JSON.stringify(label));
  const input = new Uint8Array(textBytes.length + identityPublicKey.length);
  input.set(textBytes, 0);
  input.set(identityPublicKey, textBytes.length);
  return nacl.hash(input);
}

/**
 * The tolerant lock code of the node whose identity public key is
 * `identityPublicKey` (32 bytes, Ed25519) on the machine `machine` describes:
 * "IIIII-IIIII-IIIII-MMMMM-NNNNN-HHHHC". What `floe lockcode` prints.
 */
export function deriveLockCode(machine: MachineIdentifiers, identityPublicKey: Uint8Array): string {
  assertIdentityKey(identityPublicKey);
  const m = normalizeMachineIdentifiers(machine);
  const values: Readonly<Record<LockCodeInput, unknown>> = { 'machine-id': m.machineId ?? null, macs: m.macs, hostname: m.hostname };
  let data = lockIdentityOf(identityPublicKey);
  for (const input of LOCK_CODE_INPUTS) data += bytesToCrockford(digest(['floe-lock-code', 2, input, values[input]], identityPublicKey), INPUT_CHARS[input]);
  return formatFriendlyCode(data);
}

/**
 * The identity part of every tolerant lock code of the node whose identity
 * public key is `identityPublicKey` (32 bytes): its first 15 symbols, what
 * lockCodeParts() answers as `identity`. Lets a key center check that a lock
 * code belongs to the node key that signed a request.
 */
export function lockIdentityOf(identityPublicKey: Uint8Array): string {
  assertIdentityKey(identityPublicKey);
  return bytesToCrockford(digest(['floe-lock-code', 2, 'identity'], identityPublicKey), LOCK_IDENTITY_CHARS);
}

/**
 * The legacy (0.1) lock code of the same node: "XXXXX-XXXXX-XXXXX-XXXXX-XXXXC".
 * Keys issued against it keep working; it matches only exactly.
 */
export function deriveLegacyLockCode(machine: MachineIdentifiers, identityPublicKey: Uint8Array): string {
  assertIdentityKey(identityPublicKey);
  const m = normalizeMachineIdentifiers(machine);
  return formatFriendlyCode(bytesToCrockford(digest(['floe-lock-code', 1, m.machineId ?? null, m.macs, m.hostname], identityPublicKey), LOCK_CODE_CHARS - 1));
}

/** What parseLockCode() found. */
export type LockCodeParse =
  | { ok: true; code: string; form: LockCodeForm }
  | { ok: false; problem: 'MALFORMED' | 'TYPO'; message: string };

/**
 * Reads a lock code someone typed, of either form: the canonical grouped
 * text and its form, or MALFORMED / TYPO (a mistyped or swapped character,
 * caught by the check character). Never throws. The one place the key
 * center and the node read lock codes.
 */
export function parseLockCode(input: unknown): LockCodeParse {
  const parsed = parseFriendlyCode(input, [TOLERANT_LOCK_CODE_CHARS, LOCK_CODE_CHARS], 'lock code');
  if (!parsed.ok) return parsed;
  return { ok: true, code: parsed.code, form: symbolCount(parsed.code) === TOLERANT_LOCK_CODE_CHARS ? 'tolerant' : 'legacy' };
}

function symbolCount(canonical: string): number {
  return canonical.replaceAll('-', '').length;
}

/** The parts of a tolerant lock code: its identity digest and each machine input's digest. */
export interface LockCodeParts {
  readonly identity: string;
  readonly inputs: Readonly<Record<LockCodeInput, string>>;
}

/** The parts of a tolerant code in canonical form (parseLockCode's `code`); undefined for any other text. */
export function lockCodeParts(canonical: string): LockCodeParts | undefined {
  const symbols = canonical.replaceAll('-', '');
  if (symbols.length !== TOLERANT_LOCK_CODE_CHARS) return undefined;
  let at = LOCK_IDENTITY_CHARS;
  const inputs = {} as Record<LockCodeInput, string>;
  for (const input of LOCK_CODE_INPUTS) {
    inputs[input] = symbols.slice(at, at + INPUT_CHARS[input]);
    at += INPUT_CHARS[input];
  }
  return { identity: symbols.slice(0, LOCK_IDENTITY_CHARS), inputs };
}
