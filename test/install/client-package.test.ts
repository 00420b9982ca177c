// The SDK as another project gets it: `npm pack` this checkout (which builds
// the SDK's type declarations), `npm install` the tarball into an empty ES
// module project — every dependency from a registry on loopback serving this
// checkout's node_modules — then, in that project, plain Node.js imports
// `floe/client` and checks a seat out of a real daemon and back in, and tsc
// type-checks a TypeScript file that does the same.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../daemon/test-daemon.test-support.ts';
import { startLocalRegistry } from './local-registry.test-support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs a program to its end (bounded), capturing its output. */
function exec(file: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const APP_JS = `import { connect, isFloeError } from 'floe/client';
const client = await connect({ servers: [process.argv[2]], user: 'ada', host: 'ws-1', app: 'consumer' });
const lease = await client.checkout('demo');
await client.checkin(lease);
await client.close();
console.log(JSON.stringify({ leaseId: lease.leaseId, feature: lease.feature, isFloeError: typeof isFloeError }));
`;

const APP_TS = `import { connect, isFloeError, type Lease } from 'floe/client';

async function main(server: string): Promise<string> {
  const client = await connect({ servers: [server], user: 'ada', host: 'ws-1', app: 'consumer' });
  try {
    const lease: Lease = await client.checkout('demo', { wait: false });
    await client.checkin(lease);
    return lease.leaseId;
  } catch (error) {
    return isFloeError(error) ? error.code : 'unknown';
  } finally {
    await client.close();
  }
}
// @ts-expect-error -- servers are URLs: the project sees the SDK's real types, not any
void connect({ servers: [1] });
void main('ws://127.0.0.1:7401/ws');
`;

describe('floe/client from another project', () => {
  it('a project that npm installs the packed tarball imports floe/client in plain Node.js, checks a seat out and in, and type-checks against its declarations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-consumer-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // With scripts: `prepare` writes the declarations the tarball carries (dist/types).
    const pack = await exec('npm', ['pack', '--pack-destination', dir, '--json', '--loglevel=error'], ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    expect(packed!.files.map((f) => f.path)).toEqual(expect.arrayContaining(['client/index.js', 'dist/types/client/index.d.ts', 'dist/types/client/floe-client.d.ts']));

    const project = join(dir, 'project');
    await exec('mkdir', [project], dir);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    writeFileSync(join(project, 'app.mjs'), APP_JS);
    writeFileSync(join(project, 'app.ts'), APP_TS);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] }, files: ['app.ts'] }),
    );
    writeFileSync(join(dir, 'npmrc'), '');
    const registry = await startLocalRegistry(join(ROOT, 'node_modules'));
    cleanups.push(() => registry.close());
    const install = await exec(
      'npm',
      ['install', join(dir, packed!.filename), 'typescript', '@types/node@20', '--registry', registry.url, '--cache', join(dir, 'cache'), '--userconfig', join(dir, 'npmrc'), '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      project,
      240_000,
    );
    expect(install.code, install.stderr).toBe(0);

    const daemon: TestDaemon = await startTestDaemon();
    cleanups.push(() => daemon.destroy());
    await daemon.installDemoLicense(2);
    const run = await exec(process.execPath, ['app.mjs', daemon.clientUrl], project);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ leaseId: expect.any(String), feature: 'demo', isFloeError: 'function' });

    const typecheck = await exec(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
    expect(typecheck.stdout + typecheck.stderr).toBe('');
    expect(typecheck.code).toBe(0);
  }, 400_000);
});
