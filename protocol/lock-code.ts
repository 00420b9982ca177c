// A lock code names one Floe node on one machine: the vendor's key center
// binds a license key to it, and a node runs only keys that name its code.
// This file is the pure derivation; daemon/identity/ gathers the inputs.
//
// The inputs are the machine's identifiers (machine-id, MACs of physical
// interfaces, hostname) and the node's own identity public key, kept in its
// data directory. The identity key makes three nodes on one machine three
// codes; the machine identifiers make a data directory copied to another
// machine a different code. Nothing in it is secret: it is a SHA-512 digest
// (tweetnacl's, so protocol/ stays pure) cut to 120 bits.
import nacl from 'tweetnacl';
import { bytesToCrockford, formatFriendlyCode, parseFriendlyCode, type FriendlyCodeParse } from './friendly-code.ts';

/** Symbols in a lock code, check character included (five groups of five). */
export const LOCK_CODE_CHARS = 25;

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

/**
 * The lock code of the node whose identity public key is `identityPublicKey`
 * (32 bytes, Ed25519) on the machine `machine` describes: "XXXXX-XXXXX-XXXXX-XXXXX-XXXXC".
 */
export function deriveLockCode(machine: MachineIdentifiers, identityPublicKey: Uint8Array): string {
  if (identityPublicKey.length !== nacl.sign.publicKeyLength) throw new Error('assert: identity public key must be 32 bytes');
  const m = normalizeMachineIdentifiers(machine);
  const text = JSON.stringify(['floe-lock-code', 1, m.machineId ?? null, m.macs, m.hostname]);
  const textBytes = new TextEncoder().encode(text);
  const input = new Uint8Array(textBytes.length + identityPublicKey.length);
  input.set(textBytes, 0);
  input.set(identityPublicKey, textBytes.length);
  return formatFriendlyCode(bytesToCrockford(nacl.hash(input), LOCK_CODE_CHARS - 1));
}

/**
 * Reads a lock code someone typed: the canonical grouped text, or MALFORMED /
 * TYPO (a mistyped or swapped character, caught by the check character). Never throws.
 */
export function parseLockCode(input: unknown): FriendlyCodeParse {
  return parseFriendlyCode(input, LOCK_CODE_CHARS, 'lock code');
}
