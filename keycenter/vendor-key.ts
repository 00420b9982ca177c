// The vendor's signing key pair, kept in the key-center directory. The secret
// half signs every license key the vendor issues: it is written once, owner
// read-only, and never overwritten.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { decodeBase64url, encodeBase64url, formatVendorPublicKey } from '../protocol/index.ts';
import { KeyCenterError } from './key-center-error.ts';

/** Secret key file inside the key-center directory (mode 0600). */
export const VENDOR_SECRET_FILE_NAME = 'vendor-key.json';
/** Public key text file inside the key-center directory. */
export const VENDOR_PUBLIC_FILE_NAME = 'vendor-key.pub';

const VENDOR_FILE_BYTES_MAX = 4096;

/** Writes a new vendor key pair into `dir` (which must exist); refuses to replace one. */
export function createVendorKeyPair(dir: string): nacl.SignKeyPair {
  const seed = nacl.randomBytes(nacl.sign.seedLength);
  const keyPair = nacl.sign.keyPair.fromSeed(seed);
  const secret = JSON.stringify({
    format: 'floe-vendor-key',
    v: 1,
    publicKey: encodeBase64url(keyPair.publicKey),
    seed: encodeBase64url(seed),
  });
  writeNewFile(join(dir, VENDOR_SECRET_FILE_NAME), `${secret}\n`, 0o600);
  writeNewFile(join(dir, VENDOR_PUBLIC_FILE_NAME), `${formatVendorPublicKey(keyPair.publicKey)}\n`, 0o644);
  return keyPair;
}

function writeNewFile(path: string, content: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether `dir` already holds a vendor key. */
export function hasVendorKey(dir: string): boolean {
  return existsSync(join(dir, VENDOR_SECRET_FILE_NAME));
}

/** Loads the vendor key pair from `dir`; NOT_INITIALIZED or STORE_UNUSABLE when it cannot. */
export function loadVendorKeyPair(dir: string): nacl.SignKeyPair {
  const path = join(dir, VENDOR_SECRET_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeyCenterError('NOT_INITIALIZED', `${dir} is not a key center (no vendor key); run "floe keycenter init --dir ${dir}"`);
    }
    throw new KeyCenterError('STORE_UNUSABLE', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let parsed: { format?: unknown; v?: unknown; seed?: unknown; publicKey?: unknown } = {};
  try {
    if (text.length <= VENDOR_FILE_BYTES_MAX) parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // reported below as a damaged file
  }
  const seed = typeof parsed.seed === 'string' ? decodeBase64url(parsed.seed) : undefined;
  const keyPair = seed?.length === nacl.sign.seedLength ? nacl.sign.keyPair.fromSeed(seed) : undefined;
  if (parsed.format !== 'floe-vendor-key' || parsed.v !== 1 || keyPair === undefined || encodeBase64url(keyPair.publicKey) !== parsed.publicKey) {
    throw new KeyCenterError('STORE_UNUSABLE', `${path} is damaged or not a Floe vendor key; restore it from a backup`);
  }
  return keyPair;
}
