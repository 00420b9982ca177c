// The admin commands against a node on https:// whose certificate comes
// from the site CA (issue 17): without the CA a command fails with a
// sentence naming the fix; `--ca FILE` or FLOE_CA makes it work; a CA of
// another site is refused as well.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { writeTestSiteTls, type TestSiteTls } from '../daemon/tls/site-pki.test-support.ts';
import { ADMIN_TOKEN, makeLicenseKey, startTestDaemon, tempDir, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { run as backup } from './backup.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as lease } from './lease.ts';
import { run as status } from './status.ts';

let dir: string;
let site: TestSiteTls;
let daemon: TestDaemon;

beforeAll(async () => {
  dir = tempDir('floe-cli-ca-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  site = await writeTestSiteTls(dir, ['n1']);
  writeFileSync(join(dir, 'demo.license'), makeLicenseKey([loadNodeIdentity(dataDir).lockCode], { seats: 3 }));
  daemon = await startTestDaemon({ tls: site.nodes['n1'], licenseFiles: [join(dir, 'demo.license')] }, dataDir);
}, 60_000);

afterAll(async () => {
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('admin commands and a node on https:// with a site CA', () => {
  it('without the CA, floe status fails with TLS_CERT_UNTRUSTED and says to give --ca FILE', async () => {
    vi.stubEnv('FLOE_CA', '');
    const r = await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN);
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(/^TLS_CERT_UNTRUSTED: the admin API at https:\/\/127\.0\.0\.1:\d+ presented a certificate this command does not trust \([^)]+\): give the site CA with --ca FILE or FLOE_CA=FILE/);
  });

  it('with --ca the site CA, floe status shows the node and floe lease list answers', async () => {
    const r = await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', site.caFile);
    expect(r.stderr).toBe('');
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatch(/demo/);
    const leases = await floe(lease, 'list', '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', site.caFile, '--json');
    expect(leases.exit).toBe(0);
    expect(JSON.parse(leases.last)).toEqual([]);
  });

  it('FLOE_CA names the CA file as --ca does', async () => {
    vi.stubEnv('FLOE_CA', site.caFile);
    expect((await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN)).exit).toBe(0);
  });

  it('a backup streams over https with --ca into a file', async () => {
    const out = join(dir, 'b.floe-backup');
    const r = await floe(backup, '--out', out, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', site.caFile);
    expect(r.stderr.match(/^[A-Z_]+: /)).toBeNull();
    expect(r.exit).toBe(0);
  });

  it('the CA of another site is refused, and the message names the file given', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    const otherSite = await writeTestSiteTls(other, ['n1']);
    const r = await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', otherSite.caFile);
    expect(r.exit).toBe(1);
    expect(r.stderr).toContain(`TLS_CERT_UNTRUSTED: the admin API at ${daemon.adminUrl} presented a certificate this command does not trust`);
    expect(r.stderr).toContain(`not signed by the CA in ${otherSite.caFile}`);
  });

  it('a --ca file that holds no certificate is a usage error (exit 2) and nothing is sent', async () => {
    const notPem = join(dir, 'not-a-ca.txt');
    writeFileSync(notPem, 'hello\n');
    const r = await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', notPem);
    expect(r.exit).toBe(2);
    expect(r.stderr).toMatch(/^BAD_REQUEST: --ca .*not-a-ca\.txt holds no PEM certificate/);
    const missing = await floe(status, '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN, '--ca', join(dir, 'nope.crt'));
    expect(missing.exit).toBe(2);
    expect(missing.stderr).toMatch(/^BAD_REQUEST: cannot read the CA file .*nope\.crt \(--ca\)/);
  });
});
