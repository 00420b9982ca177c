// The install of docs/install.md, checked as far as a test machine can:
// the unit files of deploy/ pass systemd's own checks (when systemd's tools
// are installed), the `npm pack` tarball installs with `npm install -g` and
// its `floe --help` runs, and an old Node.js gets one clear line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalRegistry } from './local-registry.test-support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const SYSTEMD_SYSUSERS = '/usr/bin/systemd-sysusers';
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'floe-install-'));
  dirs.push(d);
  return d;
}

/** Runs a program to its end (bounded), capturing its output. */
function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const units = readdirSync(DEPLOY).filter((f) => /\.(service|timer)$/.test(f));

describe.runIf(existsSync(SYSTEMD_ANALYZE))('the unit files of deploy/ (systemd-analyze verify)', () => {
  it('every unit passes systemd-analyze verify', async () => {
    expect(units).toEqual(expect.arrayContaining(['floe.service', 'floe-backup.service', 'floe-backup.timer']));
    const r = await exec(SYSTEMD_ANALYZE, ['verify', '--man=no', ...units.map((u) => `./${u}`)], { cwd: DEPLOY });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a unit with a mistake fails the same check (the check can fail)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.service'), '[Service]\nType=exec\nExecStart=floe serve\nUser=floe\nRestart=sometimes\n');
    const r = await exec(SYSTEMD_ANALYZE, ['verify', '--man=no', './broken.service'], { cwd: dir });
    expect(r.code).not.toBe(0);
  });

  it('floe.service runs as the floe user, finds floe and node on its PATH, and waits for the node to answer', () => {
    const text = readFileSync(join(DEPLOY, 'floe.service'), 'utf8');
    expect(text).toMatch(/^User=floe$/m);
    expect(text).toMatch(/^Environment=PATH=\/usr\/local\/bin:\/usr\/bin:\/bin$/m);
    expect(text).toMatch(/^Type=exec$/m);
    expect(text).toMatch(/^ExecStartPost=\/usr\/bin\/env floe health --config \/etc\/floe\/floe\.toml --wait \d+ --without-leader$/m);
  });
});

describe.runIf(existsSync(SYSTEMD_SYSUSERS))('the system user (systemd-sysusers)', () => {
  it('deploy/floe.sysusers creates the floe user with no login shell', async () => {
    const root = tempDir();
    const r = await exec(SYSTEMD_SYSUSERS, [`--root=${root}`, '--dry-run', join(DEPLOY, 'floe.sysusers')]);
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Creating user '?floe'? \(Floe license server\)/);
  });
});

describe('npm pack and npm install -g', () => {
  it('the packed tarball holds the sources and no tests, installs with npm install -g, and floe --help and floe lockcode run', async () => {
    const dir = tempDir();
    const pack = await exec('npm', ['pack', '--pack-destination', dir, '--json', '--ignore-scripts']);
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const paths = packed!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['bin/floe.js', 'cli/main.ts', 'daemon/storage/migrations/meta/_journal.json', 'deploy/floe.service', 'docs/install.md', 'package.json']));
    expect(paths.filter((p) => /\.test\.ts$|\.test-support\.ts$|^test\/|^bench\//.test(p))).toEqual([]);
    // Every dependency comes from a registry on loopback that serves this checkout's node_modules.
    const registry = await startLocalRegistry(join(ROOT, 'node_modules'));
    try {
      const prefix = join(dir, 'prefix');
      writeFileSync(join(dir, 'npmrc'), '');
      const install = await exec(
        'npm',
        ['install', '-g', join(dir, packed!.filename), '--prefix', prefix, '--registry', registry.url, '--cache', join(dir, 'cache'), '--userconfig', join(dir, 'npmrc'), '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: dir, timeoutMs: 240_000 },
      );
      expect(install.code, install.stderr).toBe(0);
      expect(registry.served.has('hono')).toBe(true);
      const floe = join(prefix, 'bin', 'floe');
      const help = await exec(floe, ['--help'], { cwd: dir, env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` } });
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/^usage: floe <command>/);
      expect(help.stdout).toMatch(/^ {2}backup /m);
      // A command that loads the sources beyond the entry point, from the installed copy.
      const lockcode = await exec(floe, ['lockcode', '--data-dir', join(dir, 'node'), '--json'], { cwd: dir });
      expect(lockcode.code, lockcode.stderr).toBe(0);
      expect(JSON.parse(lockcode.stdout)).toMatchObject({ lockCode: expect.stringMatching(/^[0-9A-Z]{5}(-[0-9A-Z]{5})+$/) });
    } finally {
      await registry.close();
    }
  }, 300_000);
});

describe('the Node.js version check', () => {
  it('floe on a Node.js older than 20 says NODE_TOO_OLD in one line and exits 1', async () => {
    const older = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.19.0"});';
    const r = await exec(process.execPath, ['--import', older, join(ROOT, 'bin', 'floe.js'), '--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^NODE_TOO_OLD: floe needs Node\.js 20 or later; \S+ is Node\.js 18\.19\.0\. .*\n$/);
  });
});
