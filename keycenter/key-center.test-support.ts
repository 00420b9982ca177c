// Test support for the key center's rule tests: a fresh key center in a temp
// directory with a settable clock, lock codes, and the mail it queued.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { deriveLockCode, parseVendorPublicKey } from '../protocol/index.ts';
import { KeyCenter, initKeyCenter, type KeyCenterOptions } from './key-center.ts';
import { KeyCenterError } from './key-center-error.ts';
import type { MailRecord } from './store/key-center-store.ts';

/** 2026-01-15, the tests' "now". */
export const T0 = Date.UTC(2026, 0, 15);
export const DAY_MS = 86_400_000;

const machine = { machineId: 'm', macs: [], hostname: 'h' };
/** The lock code of test node `n`. */
export const lock = (n: number): string => deriveLockCode(machine, new Uint8Array(32).fill(n));

export interface TestKeyCenter {
  readonly kc: KeyCenter;
  readonly dir: string;
  readonly vendorKey: Uint8Array;
  /** Set `nowMs` to move the key center's clock. */
  readonly clock: { nowMs: number };
}

const opened: { kc: KeyCenter; root: string }[] = [];
afterEach(async () => {
  for (const { kc, root } of opened.splice(0)) {
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  }
});

/** A fresh key center (closed and removed after the test). */
export async function testKeyCenter(options: Omit<KeyCenterOptions, 'clock'> = {}): Promise<TestKeyCenter> {
  const root = mkdtempSync(join(os.tmpdir(), 'floe-kc-'));
  const dir = join(root, 'kc');
  const pub = initKeyCenter(dir);
  const clock = { nowMs: T0 };
  const kc = await KeyCenter.open(dir, { ...options, clock: () => clock.nowMs });
  opened.push({ kc, root });
  return { kc, dir, vendorKey: parseVendorPublicKey(pub)!, clock };
}

/** The code of the KeyCenterError `fn` throws, or "OK". */
export async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (error) {
    if (error instanceof KeyCenterError) return error.code;
    throw error;
  }
}

/** Every mail queued so far, oldest first. */
export async function queuedMail(kc: KeyCenter): Promise<MailRecord[]> {
  return (await kc.ctx.store.read((q) => q.mails(1000))).reverse();
}

/** The token of the last link to `path` ("/set-password/", "/reset-password/") mailed to `to`. */
export async function mailedToken(kc: KeyCenter, to: string, path: string): Promise<string> {
  const mail = (await queuedMail(kc)).filter((m) => m.to === to && m.text.includes(path)).at(-1);
  const token = mail?.text.split(path)[1]?.split(/\s/)[0];
  if (token === undefined) throw new Error(`no mail to ${to} with a ${path} link`);
  return token;
}
