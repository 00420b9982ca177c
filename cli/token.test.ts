// `floe token` against a real node on loopback: the token printed once, then usable with its role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestDaemon, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as lease } from './lease.ts';
import { run as token } from './token.ts';

let daemon: TestDaemon;
let auth: string[];
beforeAll(async () => {
  daemon = await startTestDaemon();
  auth = ['--admin', daemon.adminUrl, '--token', ADMIN_TOKEN];
});
afterAll(() => daemon.destroy());

describe('floe token create | list | revoke', () => {
  it('create prints the token as the last line, once; it then works with its role only', async () => {
    const created = await floe(token, 'create', '--role', 'viewer', '--name', 'wallboard', ...auth);
    expect(created).toMatchObject({ exit: 0, stderr: '' });
    expect(created.last).toMatch(/^floe_\S{43}$/);
    const viewer = ['--admin', daemon.adminUrl, '--token', created.last];
    expect((await floe(lease, 'list', ...viewer)).exit).toBe(0);
    const refused = await floe(lease, 'free', 'L-1', ...viewer);
    expect(refused.exit).toBe(4);
    expect(refused.stderr).toMatch(/^FORBIDDEN: /);
    const listed = await floe(token, 'list', ...auth);
    expect(listed.stdout).toMatch(/wallboard\s+viewer\s+api\s+created \d{4}-\d\d-\d\dT\S+ by \S+ {2}last used (never|\d{4}-\S+)$/m);
    // The config file's token: no "-" where a date would be, but where it comes from.
    expect(listed.stdout).toMatch(/^config-1\s+admin\s+config\s+from the config file \(adminTokenSha256\); use not recorded$/m);
    expect(listed.stdout).not.toContain(created.last);
  });

  it('revoke prints the name; a second revoke is TOKEN_NOT_FOUND (exit 1); a bad role is a usage error (exit 2)', async () => {
    expect(await floe(token, 'revoke', 'wallboard', ...auth)).toMatchObject({ exit: 0, last: 'wallboard' });
    const again = await floe(token, 'revoke', 'wallboard', ...auth);
    expect(again.exit).toBe(1);
    expect(again.stderr).toMatch(/^TOKEN_NOT_FOUND: /);
    expect((await floe(token, 'create', '--role', 'root', '--name', 'x', ...auth)).exit).toBe(2);
  });
});
