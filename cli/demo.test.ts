import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePortBase } from '../test/cluster/free-ports.test-support.ts';
import { removeTempDirs, tempDir } from './cli-harness.test-support.ts';
import { DEMO_PASSWORD_FILE } from './demo-key-center.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'floe.js');
const started: number[] = [];

afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    await vi.waitFor(
      () => {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        throw new Error(`pid ${pid} still runs`);
      },
      { timeout: 15_000, interval: 100 },
    );
  }
  removeTempDirs();
});

/** Runs `floe demo … --detach`; answers its JSON summary. */
/** A --base-port whose ports (cli/demo.ts: clients +1.., admin +101.., key center +200, peers +201..) are free and reserved. */
function demoBasePort(nodes: number): Promise<number> {
  const offsets = [200];
  for (let i = 0; i < nodes; i++) offsets.push(1 + i, 101 + i, 201 + i);
  return freePortBase(offsets);
}

function demo(dir: string, basePort: number, ...extra: string[]): Promise<{ keyCenterUrl?: string; keyCenterPid?: number; nodes: { pid: number; clientUrl: string }[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'demo', '--dir', dir, '--nodes', '1', '--base-port', String(basePort), '--detach', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`floe demo exited ${code}: ${stderr}`));
      resolve({ ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as { nodes: { pid: number; clientUrl: string }[] }), stderr });
    });
  });
}

/** The cookies a response sets, as one `cookie` header with `jar`'s. */
function withCookies(jar: Map<string, string>, res: Response): string {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

describe('floe demo', () => {
  it('also serves a key center whose demo member signs in and sees the demo order and its key', async () => {
    const dir = tempDir();
    const basePort = await demoBasePort(1);
    const summary = await demo(dir, basePort);
    started.push(...summary.nodes.map((n) => n.pid), summary.keyCenterPid!);
    expect(summary.keyCenterUrl).toBe(`http://127.0.0.1:${basePort + 200}`);
    const password = readFileSync(join(dir, DEMO_PASSWORD_FILE), 'utf8').trim();
    expect(summary.stderr).toContain(`sign in as demo@example.com, password ${password}`);

    const url = summary.keyCenterUrl!;
    const jar = new Map<string, string>();
    const form = await fetch(`${url}/sign-in`);
    const formHtml = await form.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(formHtml)?.[1];
    if (csrf === undefined) throw new Error(`no form: ${form.status} ${formHtml.slice(0, 500)}`);
    const signIn = await fetch(`${url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: withCookies(jar, form) },
      body: new URLSearchParams({ email: 'demo@example.com', password, _csrf: csrf }).toString(),
    });
    expect([signIn.status, signIn.headers.get('location')]).toEqual([303, '/codes']);
    const cookie = withCookies(jar, signIn);
    const codes = await (await fetch(`${url}/codes`, { headers: { cookie } })).text();
    expect(codes).toContain('Demo Customer Inc.');
    expect(codes).toMatch(/Order <a href="\/orders\/ORD-[^"]+">DEMO<\/a>/);
    const hosts = await (await fetch(`${url}/hosts`, { headers: { cookie } })).text();
    expect(hosts).toContain(`floe demo in ${dir}`);
    const api = (await (await fetch(`${url}/api/v1/hosts`, { headers: { cookie } })).json()) as { keys: { licenseId: string; keyText: string; status: string }[] }[];
    const key = api[0]?.keys.find((k) => k.status === 'active');
    expect(key?.keyText).toBe(readFileSync(join(dir, 'demo.license'), 'utf8').trim());
    expect(hosts).toContain(key!.licenseId);
    // Processes starting on a shared machine: a bound, not a goal (about 15 s when it is quiet).
  }, 90_000);
});

/** Runs a command line the demo printed (`npx tsx …`, no quoting needed: temp paths have no spaces). */
function runPrinted(line: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...args] = line.split(' ');
  return new Promise((resolve) => {
    const child = spawn(file!, args, { cwd: join(dirname(BIN), '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('floe demo --tls', () => {
  it('prints a client command with the site CA, and that command checks a seat out over wss:// and back in', async () => {
    const dir = tempDir();
    const basePort = await demoBasePort(1);
    const summary = await demo(dir, basePort, '--tls');
    started.push(...summary.nodes.map((n) => n.pid), summary.keyCenterPid!);
    const printed = /^a client: (npx tsx \S+checkout-demo\.ts --ca \S+ wss:\/\/\S+ demo)$/m.exec(summary.stderr)?.[1];
    expect(printed, summary.stderr).toBe(`npx tsx ${join(dirname(BIN), '..', 'client', 'examples', 'checkout-demo.ts')} --ca ${join(dir, 'tls', 'ca.crt')} ${summary.nodes[0]!.clientUrl} demo`);
    const ok = await runPrinted(`${printed!} 0`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/checked out 1 seat\(s\) of demo v1: lease \S+\nchecked in\n/);
  }, 120_000);
});

describe('floe demo in the foreground', () => {
  it('keeps serving when a node is killed (the failover the docs have you try), and stops on SIGTERM', async () => {
    const dir = tempDir();
    const basePort = await demoBasePort(3);
    const child = spawn(process.execPath, [BIN, 'demo', '--dir', dir, '--nodes', '3', '--base-port', String(basePort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const summary = await vi.waitFor(
      () => {
        const last = stdout.trim().split('\n').at(-1);
        if (last === undefined || !last.startsWith('{')) throw new Error(`no summary yet: ${stderr}`);
        return JSON.parse(last) as { nodes: { pid: number; adminUrl: string }[]; keyCenterPid: number };
      },
      { timeout: 120_000, interval: 200 },
    );
    started.push(...summary.nodes.map((n) => n.pid), summary.keyCenterPid);
    process.kill(summary.nodes[0]!.pid, 'SIGKILL');
    await vi.waitFor(() => expect(stderr).toContain('2 of 3 nodes left, the others carry on'), { timeout: 10_000 });
    expect(child.exitCode).toBeNull();
    // The two others still serve the demo pool.
    const health = await fetch(`${summary.nodes[1]!.adminUrl}/api/v1/health`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});
