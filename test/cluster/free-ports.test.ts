// The test sites' port reservations: a port another live test process took
// is never handed out, so a node restarting on its port finds it free.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, reserve } from './free-ports.test-support.ts';

/** A port the tests below reserve by hand: just under the ephemeral range's usual start, so freePorts rarely draws it. */
const PORT = 32_767;
const file = join(tmpdir(), 'floe-test-ports', String(PORT));

afterEach(() => rmSync(file, { force: true }));

describe('test site ports', () => {
  it('are below the ephemeral range, distinct, and recorded as this process', async () => {
    const ports = await freePorts(6);
    expect(new Set(ports).size).toBe(6);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]));
      expect(readFileSync(join(tmpdir(), 'floe-test-ports', String(p)), 'utf8')).toBe(String(process.pid));
    }
  });

  it('refuses a port a live process holds, and takes over one whose process is gone', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      expect(reserve(PORT)).toBe(true);
      writeFileSync(file, String(other.pid));
      expect(reserve(PORT)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    expect(reserve(PORT)).toBe(true);
    expect(existsSync(file) && readFileSync(file, 'utf8')).toBe(String(process.pid));
  });
});
