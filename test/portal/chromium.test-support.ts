// Test support: Debian's Chromium driven by playwright-core, never a
// downloaded browser. Tests that need it say why they skip when it is missing.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian installs Chromium (apt-get install chromium). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether this machine has Debian's Chromium. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Starts a headless Chromium with the flags a shared, offline CI machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
