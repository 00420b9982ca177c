// A node's identity: an Ed25519 key pair kept in its data directory. It
// makes the node's lock code its own (two nodes on one machine, two codes),
// and will authenticate the node to its cluster peers. Created once, on first
// use, readable by its owner only; never overwritten.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { createSigner } from '../transport/peer-auth.ts';
import {
  decodeBase64url,
  deriveLegacyLockCode,
  deriveLockCode,
  encodeBase64url,
  formatNodeLockCodes,
  type MachineIdentifiers,
} from '../../protocol/index.ts';
import { readMachineIdentifiers, type MachineIdentifierSource } from './machine-identifiers.ts';
import { ensurePrivateDir, tightenToPrivate } from '../private-files.ts';

/** The file, inside the data directory, that holds the identity key pair. */
export const IDENTITY_FILE_NAME = 'node-identity.json';

/** Data directory used when a command is given none. */
export const DEFAULT_DATA_DIR = process.env['FLOE_DATA_DIR'] ?? './data';

/** Longest identity file read, bytes; a bigger one is not ours. */
const IDENTITY_FILE_BYTES_MAX = 4096;

export type NodeIdentityErrorCode = 'DATA_DIR_UNUSABLE' | 'IDENTITY_CORRUPT' | 'IDENTITY_MISSING';

/** Why a node identity could not be loaded or created; `message` is a human sentence. */
export class NodeIdentityError extends Error {
  override readonly name = 'NodeIdentityError';
  constructor(
    readonly code: NodeIdentityErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A node's identity and the lock code it has on this machine. */
export interface NodeIdentity {
  readonly dataDir: string;
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** This node's lock code on the machine `machine` describes (tolerant form: what `floe lockcode` prints). */
  readonly lockCode: string;
  /** Its lock code of the 0.1 form, which keys issued before 0.2 name. */
  readonly legacyLockCode: string;
  /** Both, as the node states them in its handshakes and checks keys against (formatNodeLockCodes). */
  readonly statedLockCodes: string;
  /** The identifiers the lock code was computed from. */
  readonly machine: MachineIdentifiers;
  /** A detached Ed25519 signature (64 bytes) of `message` by this node. */
  sign(message: Uint8Array): Uint8Array;
}

export interface LoadNodeIdentityOptions {
  /** Create the identity when the data directory has none (default true). */
  readonly create?: boolean;
  /** Where machine identifiers come from (default: this machine). */
  readonly machine?: MachineIdentifierSource;
}

interface IdentityFile {
  format: 'floe-node-identity';
  v: 1;
  publicKey: string;
  seed: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readIdentityFile(path: string): Uint8Array | undefined {
  let text: string;
  try {
    if (statSync(path).size > IDENTITY_FILE_BYTES_MAX) {
      throw new NodeIdentityError('IDENTITY_CORRUPT', `${path} is too large to be a node identity`);
    }
    text = readFileSync(path, 'utf8');
    // A copy (cp, a restore from backup) may have left the secret key readable by others.
    tightenToPrivate(path);
  } catch (error) {
    if (error instanceof NodeIdentityError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NodeIdentityError('DATA_DIR_UNUSABLE', `cannot read ${path}: ${errorText(error)}`);
  }
  let parsed: Partial<IdentityFile>;
  try {
    parsed = JSON.parse(text) as Partial<IdentityFile>;
  } catch {
    throw new NodeIdentityError('IDENTITY_CORRUPT', `${path} is not a node identity (not JSON); restore it from a backup`);
  }
  const seed = typeof parsed.seed === 'string' ? decodeBase64url(parsed.seed) : undefined;
  if (parsed.format !== 'floe-node-identity' || parsed.v !== 1 || seed?.length !== nacl.sign.seedLength) {
    throw new NodeIdentityError('IDENTITY_CORRUPT', `${path} is not a node identity of this Floe; restore it from a backup`);
  }
  if (encodeBase64url(nacl.sign.keyPair.fromSeed(seed).publicKey) !== parsed.publicKey) {
    throw new NodeIdentityError('IDENTITY_CORRUPT', `${path} is damaged: its public key does not match its secret key`);
  }
  return seed;
}

/** Writes a new identity; if another process won the race, answers its seed instead. */
function createIdentityFile(dataDir: string, path: string): Uint8Array {
  try {
    ensurePrivateDir(dataDir);
  } catch (error) {
    throw new NodeIdentityError('DATA_DIR_UNUSABLE', `cannot create data directory ${dataDir}: ${errorText(error)}`);
  }
  const seed = nacl.randomBytes(nacl.sign.seedLength);
  const content: IdentityFile = {
    format: 'floe-node-identity',
    v: 1,
    publicKey: encodeBase64url(nacl.sign.keyPair.fromSeed(seed).publicKey),
    seed: encodeBase64url(seed),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(content)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path); // fails if the file appeared meanwhile: never overwrite an identity
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const existing = readIdentityFile(path);
      if (existing === undefined) throw error;
      return existing;
    } finally {
      unlinkSync(tmp);
    }
    const dirFd = openSync(dataDir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (error) {
    if (error instanceof NodeIdentityError) throw error;
    throw new NodeIdentityError('DATA_DIR_UNUSABLE', `cannot write ${path}: ${errorText(error)}`);
  }
  return seed;
}

/**
 * Loads the node identity kept in `dataDir` (creating it, and the directory,
 * when absent unless `create: false`) and computes its lock code on this
 * machine. Throws NodeIdentityError with a code and a human sentence.
 */
export function loadNodeIdentity(dataDir: string, options: LoadNodeIdentityOptions = {}): NodeIdentity {
  const path = join(dataDir, IDENTITY_FILE_NAME);
  let seed = readIdentityFile(path);
  if (seed === undefined) {
    if (options.create === false) {
      throw new NodeIdentityError('IDENTITY_MISSING', `${dataDir} holds no node identity (run "floe lockcode --data-dir ${dataDir}" on the server)`);
    }
    seed = createIdentityFile(dataDir, path);
  }
  const keyPair = nacl.sign.keyPair.fromSeed(seed);
  const machine = (options.machine ?? readMachineIdentifiers)();
  const lockCode = deriveLockCode(machine, keyPair.publicKey);
  const legacyLockCode = deriveLegacyLockCode(machine, keyPair.publicKey);
  return {
    dataDir,
    publicKey: keyPair.publicKey,
    lockCode,
    legacyLockCode,
    statedLockCodes: formatNodeLockCodes({ lockCode, legacyLockCode }),
    machine,
    // Node's crypto, not tweetnacl: the same Ed25519 signature (deterministic) ~130× faster. Every dial of a
    // peer signs twice (upgrade token, handshake); tweetnacl took ~10 ms each, on a survivor's event loop
    // in the middle of a failover (the dead leader is redialed).
    sign: createSigner({ publicKey: keyPair.publicKey, privateKey: seed }),
  };
}
