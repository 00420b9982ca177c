// Files Floe writes are for its own user only: a data dir holds the node's
// identity key, its database (session and client ids, usage) and tokens.
// Creating with a mode is not enough, since the umask only takes bits away
// and an existing file keeps the mode it had, so each helper here also sets
// the mode explicitly: 0600 for files, 0700 for directories, whatever the
// umask and whatever an older version left.
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mode of every file Floe writes: read and write for its owner only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every directory Floe creates: its owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `dir` (and its parents) when absent, and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Creates `path` empty when absent, and makes it 0600 (an existing one too). */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Makes `path` 0600 when it exists; answers whether it did. */
export function makePrivateIfPresent(path: string): boolean {
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Makes the file at `path` 0600 when its mode lets anyone but its owner in.
 * Best effort: a reader that does not own the file (root running `floe
 * lockcode`, say) cannot change its mode and leaves it as it is.
 */
export function tightenToPrivate(path: string): void {
  if ((statSync(path).mode & 0o077) === 0) return;
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
}

/** Writes `data` to `path` (replacing it) as a private file. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Makes `dir` and everything under it private: directories 0700, files 0600 (symbolic links are left alone). */
export function makeTreePrivate(dir: string): void {
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeTreePrivate(path);
    else if (entry.isFile()) chmodSync(path, PRIVATE_FILE_MODE);
  }
}
