// Issue 11, finding 9: files are private. Under a permissive umask (000),
// `floe demo --init-only` and a node started from its config write nothing
// that another user of the machine could read: every file 0600, every
// directory 0700 (the SQLite database with its -wal and -shm, the node
// identity, the admin token, the configs, the license, the key center).
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as demo } from '../../cli/demo.ts';
import { loadConfigFile, parseConfig, startDaemon } from '../../daemon/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every path under `dir` with its permission bits, as "path 0644". */
function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    out.push(`${relative(dir, d) || '.'}/ ${(statSync(d).mode & 0o777).toString(8)}`);
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${(statSync(p).mode & 0o777).toString(8)}`);
    }
  };
  walk(dir);
  return out.sort();
}

describe('finding 9: files are private', () => {
  it('under umask 000, floe demo and a node it configured write every file 0600 and every directory 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'floe-private-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'demo');
    const previous = process.umask(0o000);
    cleanups.push(() => void process.umask(previous));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    cleanups.push(() => {
      vi.restoreAllMocks();
    });
    expect(await demo(['--dir', dir, '--nodes', '1', '--init-only', '--base-port', '17300'])).toBe(0);
    vi.restoreAllMocks();
    const config = { ...loadConfigFile(join(dir, 'n1.toml')), clientListen: '127.0.0.1:0', adminListen: '127.0.0.1:0' };
    const daemon = await startDaemon(config);
    await daemon.node.propose({ type: 'session-open', sessionId: 's1', clientId: 'c1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    const whileRunning = modes(dir);
    await daemon.close();
    const all = [...new Set([...whileRunning, ...modes(dir)])];
    // The database, its WAL and shared memory, the identity: all there, all private.
    expect(all.some((m) => m.startsWith('n1/floe.sqlite-wal '))).toBe(true);
    expect(all.some((m) => m.startsWith('n1/floe.sqlite-shm '))).toBe(true);
    expect(all.some((m) => m.startsWith('n1/node-identity.json '))).toBe(true);
    expect(all.filter((m) => !/ (600|700)$/.test(m) || (m.includes('/ ') && !m.endsWith(' 700')))).toEqual([]);
  });

  it('a data dir an older version left open (0755, its database 0644) is private once a node has started on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-private-old-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parseConfig({ dataDir: dir, clientListen: '127.0.0.1:0' });
    const first = await startDaemon(config);
    await first.node.propose({ type: 'session-open', sessionId: 's1', clientId: 'c1', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    await first.close();
    // As an older Floe (or a copy made with cp) left them.
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isFile()) chmodSync(join(dir, entry.name), 0o644);
    expect(modes(dir).filter((m) => / (644|755)$/.test(m)).length).toBeGreaterThan(1);
    const second = await startDaemon(config);
    cleanups.push(() => second.close());
    expect(modes(dir).filter((m) => !/ (600|700)$/.test(m) || (m.includes('/ ') && !m.endsWith(' 700')))).toEqual([]);
  });
});
