// The admin commands while the cluster changes leaders: a node that answers
// 503 UNAVAILABLE for a moment is asked again (bounded), and a refusal that
// only says the first attempt went through ("exists", "not found") after
// such a retry counts as done. Against a scripted fake admin API.
import { afterEach, describe, expect, it } from 'vitest';
import { makeLicenseKey } from '../test/daemon/test-daemon.test-support.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as lease } from './lease.ts';
import { run as license } from './license.ts';
import { scriptedAdminApi as scripted, stopScriptedAdminApis } from './scripted-admin-api.test-support.ts';

afterEach(stopScriptedAdminApis);

const unavailable: [number, unknown] = [503, { error: { code: 'UNAVAILABLE', message: 'NOT_LEADER: leadership was lost (leader: n2); retry' } }];
const key = makeLicenseKey(['LOCK'], { licenseId: 'LIC-RETRY', product: 'cad' });

describe('admin calls during a leader change', () => {
  it('sends the request again while the node answers UNAVAILABLE, and succeeds', async () => {
    const api = await scripted([unavailable, unavailable, [201, { licenseId: 'LIC-RETRY', features: ['cad'] }]]);
    const r = await floe(license, 'import', '--key', key, '--admin', api.url, '--token', 't');
    expect(r).toMatchObject({ exit: 0, last: 'LIC-RETRY' });
    expect(api.seen).toEqual(['POST /api/v1/licenses', 'POST /api/v1/licenses', 'POST /api/v1/licenses']);
  });

  it('an import that answers LICENSE_EXISTS after a retry went through the first time: done, with the key\'s license id', async () => {
    const api = await scripted([unavailable, [409, { error: { code: 'LICENSE_EXISTS', message: 'installed' } }]]);
    expect(await floe(license, 'import', '--key', key, '--admin', api.url, '--token', 't')).toMatchObject({ exit: 0, last: 'LIC-RETRY' });
  });

  it('without a retry, LICENSE_EXISTS is a refusal (exit 1) as always', async () => {
    const api = await scripted([[409, { error: { code: 'LICENSE_EXISTS', message: 'installed' } }]]);
    const r = await floe(license, 'import', '--key', key, '--admin', api.url, '--token', 't');
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(/^LICENSE_EXISTS: /);
  });

  it('freeing a lease that answers LEASE_NOT_FOUND after a retry was freed the first time', async () => {
    const api = await scripted([unavailable, [404, { error: { code: 'LEASE_NOT_FOUND', message: 'no such lease' } }]]);
    expect(await floe(lease, 'free', 'L7', '--admin', api.url, '--token', 't')).toMatchObject({ exit: 0, last: 'L7' });
    const again = await scripted([[404, { error: { code: 'LEASE_NOT_FOUND', message: 'no such lease' } }]]);
    expect((await floe(lease, 'free', 'L7', '--admin', again.url, '--token', 't')).exit).toBe(1);
  });

  it('a refusal other than UNAVAILABLE is not retried', async () => {
    const api = await scripted([[403, { error: { code: 'FORBIDDEN', message: 'no' } }]]);
    expect((await floe(license, 'list', '--admin', api.url, '--token', 't')).exit).toBe(4);
    expect(api.seen).toHaveLength(1);
  });
});
