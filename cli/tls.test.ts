import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../daemon/config.ts';
import { certificateNodeIds } from '../daemon/tls/certificate-node-ids.ts';
import { loadTlsMaterial } from '../daemon/tls/tls-material.ts';
import { removeTempDirs, tempDir } from './cli-harness.test-support.ts';
import { run } from './tls.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'floe.js');

afterEach(() => removeTempDirs());

async function floeTls(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('floe tls', () => {
  it('init makes a site CA; issue makes a node certificate it signed, naming the node id, DNS names and IPs, with a private key', async () => {
    const dir = join(tempDir(), 'site');
    const init = await floeTls('init', '--dir', dir);
    expect(init.code).toBe(0);
    expect(init.stdout.trim().split('\n').at(-1)).toBe(join(dir, 'ca.crt'));
    const issue = await floeTls('issue', '--dir', dir, '--node', 'n1', '--dns', 'floe1.example.com', '--ip', '10.0.0.1', '--json');
    expect(issue.code).toBe(0);
    const out = JSON.parse(issue.stdout.trim().split('\n').at(-1)!) as { certFile: string; keyFile: string; caFile: string; notAfter: string };
    const cert = new X509Certificate(readFileSync(out.certFile));
    expect(cert.checkIssued(new X509Certificate(readFileSync(out.caFile)))).toBe(true);
    expect(certificateNodeIds(cert.subjectAltName)).toEqual(['n1']);
    expect(cert.checkHost('floe1.example.com')).toBe('floe1.example.com');
    expect(cert.checkIP('10.0.0.1')).toBe('10.0.0.1');
    expect(statSync(out.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(loadTlsMaterial({ certFile: out.certFile, keyFile: out.keyFile, caFile: out.caFile }).status.nodeIds).toEqual(['n1']);
  });

  it('refuses a second CA for one site, a bad address and a missing CA, with codes and nothing written', async () => {
    const dir = join(tempDir(), 'site');
    expect((await floeTls('issue', '--dir', dir, '--node', 'n1')).stderr).toMatch(/^TLS_CA_INVALID: cannot read the site CA/);
    await floeTls('init', '--dir', dir);
    const again = await floeTls('init', '--dir', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^TLS_CA_EXISTS: /);
    const bad = await floeTls('issue', '--dir', dir, '--node', 'n1', '--ip', '10.0.0.300');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^TLS_REQUEST_INVALID: "10\.0\.0\.300" is not an IP address/);
    expect(() => statSync(join(dir, 'n1.crt'))).toThrow();
  });

  it('floe demo --tls writes configs with [tls], wss:// and https:// URLs and the caFile in its JSON', () => {
    const dir = tempDir();
    const r = spawnSync(process.execPath, [BIN, 'demo', '--dir', dir, '--nodes', '3', '--init-only', '--tls'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { caFile: string; nodes: { id: string; config: string; clientUrl: string; adminUrl: string }[] };
    expect(summary.caFile).toBe(join(dir, 'tls', 'ca.crt'));
    for (const n of summary.nodes) {
      expect(n.clientUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      expect(n.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const config = loadConfigFile(n.config);
      expect(config.cluster.peers.every((p) => p.peerUrl.startsWith('wss://') && p.clientUrl.startsWith('wss://'))).toBe(true);
      const tls = loadTlsMaterial({ certFile: config.tls.certFile!, keyFile: config.tls.keyFile!, caFile: config.tls.caFile });
      expect(tls.status.nodeIds).toEqual([n.id]);
    }
  }, 130_000);
});
