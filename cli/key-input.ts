// Reading a license key and vendor public keys from a command line: the key
// as text (--key) or a file (--key-file), a vendor key as its text or the
// path of the file holding it. Shared by `floe license check` and
// `floe lockcode --explain`; every failure is a CliError with its code.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { LICENSE_KEY_CHARS_MAX, parseVendorPublicKey } from '../protocol/index.ts';
import { CliError } from './cli-error.ts';

/** Largest vendor-key file read, bytes. */
const VENDOR_KEY_FILE_BYTES_MAX = 4096;

/** A vendor public key from `text`: the key itself (ed25519:…) or a file holding it. BAD_REQUEST otherwise. */
export function vendorKeyFrom(text: string): Uint8Array {
  const direct = parseVendorPublicKey(text);
  if (direct !== undefined) return direct;
  // Not key text: perhaps the path of a file holding it (vendor-key.pub).
  if (existsSync(text) && statSync(text).isFile() && statSync(text).size <= VENDOR_KEY_FILE_BYTES_MAX) {
    const fromFile = parseVendorPublicKey(readFileSync(text, 'utf8'));
    if (fromFile !== undefined) return fromFile;
  }
  throw new CliError('BAD_REQUEST', `--vendor-key "${text.slice(0, 80)}" is neither a vendor public key (ed25519:…) nor a file holding one`, 2);
}

/** The key text from --key or --key-file (exactly one of them); a file is read only up to what a key can hold (TOO_LARGE beyond). */
export function keyTextFrom(key: string | undefined, keyFile: string | undefined): string {
  if ((key === undefined) === (keyFile === undefined)) throw new CliError('BAD_REQUEST', 'give the key with --key or --key-file (one of them)', 2);
  if (key !== undefined) return key;
  const path = keyFile as string;
  try {
    // Read no more than a key can hold (4 bytes per character at most in UTF-8).
    if (statSync(path).size > LICENSE_KEY_CHARS_MAX * 4) {
      throw new CliError('TOO_LARGE', `${path} has ${statSync(path).size} bytes; a license key has at most ${LICENSE_KEY_CHARS_MAX} characters`);
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('BAD_REQUEST', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
}
