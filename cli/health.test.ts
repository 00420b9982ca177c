// `floe health`: the readiness probe of deploy/floe.service.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, tempDir, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as health } from './health.ts';

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon();
});
afterAll(async () => {
  await daemon.destroy();
});

describe('floe health', () => {
  it('answers the node\'s role and leader, from --admin or from the config\'s adminListen (0.0.0.0 asked on loopback)', async () => {
    const r = await floe(health, '--admin', daemon.adminUrl);
    expect(r).toMatchObject({ exit: 0, stderr: '' });
    expect(r.last).toMatch(/^n1: leader, leader n1, term \d+, applied index \d+$/);
    const config = join(tempDir('floe-cli-health-'), 'floe.toml');
    // A node binding 0.0.0.0 without [tls] must say insecure = true to start (docs/security.md).
    writeFileSync(config, `nodeId = "n1"\ninsecure = true\nadminListen = "0.0.0.0:${new URL(daemon.adminUrl).port}"\n`);
    expect(JSON.parse((await floe(health, '--config', config, '--json')).last)).toMatchObject({ status: 'ok', nodeId: 'n1', role: 'leader' });
  });

  it('waits up to --wait seconds for a node that does not answer, then exits 3 with UNAVAILABLE', async () => {
    const started = Date.now();
    const r = await floe(health, '--admin', 'http://127.0.0.1:1', '--wait', '1');
    expect(r.exit).toBe(3);
    expect(r.stderr).toMatch(/^UNAVAILABLE: no answer from http:\/\/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect((await floe(health, '--wait', 'soon')).exit).toBe(2);
    expect((await floe(health, '--config', '/nonexistent/floe.toml')).stderr).toMatch(/^CONFIG_INVALID: /);
  });
});
