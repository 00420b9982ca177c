// Roles, tokens and the audit log through the admin API over a real node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseKey, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';

let f: AdminFixture;
beforeAll(async () => {
  f = await openAdminFixture();
  expect((await f.call('POST', '/licenses', { key: licenseKey() })).status).toBe(201);
});
afterAll(() => f.close());

describe('admin tokens and roles', () => {
  let viewer = '';
  let operator = '';

  it('creates a token once (201 with the token), listed afterwards by name and role but never shown again', async () => {
    const created = await f.call('POST', '/tokens', { role: 'viewer', name: 'grafana' });
    expect(created).toMatchObject({ status: 201, body: { name: 'grafana', role: 'viewer', token: expect.stringMatching(/^floe_[A-Za-z0-9_-]{43}$/) } });
    viewer = created.body.token;
    operator = (await f.call('POST', '/tokens', { role: 'operator', name: 'helpdesk' })).body.token;
    const list = await f.call('GET', '/tokens');
    expect(list.body).toEqual([
      { name: 'config-1', role: 'admin', source: 'config', createdAt: null, createdBy: '', lastUsedAt: null },
      { name: 'grafana', role: 'viewer', source: 'api', createdAt: expect.any(Number), createdBy: 'config-1', lastUsedAt: null },
      { name: 'helpdesk', role: 'operator', source: 'api', createdAt: expect.any(Number), createdBy: 'config-1', lastUsedAt: null },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(viewer.slice(5));
    expect(await f.call('POST', '/tokens', { role: 'viewer', name: 'grafana' })).toMatchObject({ status: 409, body: { error: { code: 'TOKEN_EXISTS' } } });
    expect(await f.call('POST', '/tokens', { role: 'root', name: 'x' })).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  });

  it('lets a viewer read but not free a seat or list tokens (403 FORBIDDEN, nothing changed)', async () => {
    const leaseId = await f.checkout('cad');
    expect((await f.call('GET', '/leases', undefined, viewer)).body).toHaveLength(1);
    expect(await f.call('DELETE', `/leases/${leaseId}`, { reason: 'x' }, viewer)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await f.call('GET', '/tokens', undefined, viewer)).toMatchObject({ status: 403 });
    expect(f.node.leases()).toHaveLength(1);
  });

  it('lets an operator free a seat but not import a license or create a token', async () => {
    const [lease] = f.node.leases();
    expect(await f.call('DELETE', `/leases/${lease!.leaseId}`, { reason: 'stuck since Friday' }, operator)).toMatchObject({ status: 200 });
    expect(await f.call('POST', '/licenses', { key: licenseKey({ licenseId: 'LIC-OP' }) }, operator)).toMatchObject({ status: 403 });
    expect(await f.call('POST', '/tokens', { role: 'admin', name: 'sneaky' }, operator)).toMatchObject({ status: 403 });
    expect(f.node.adminTokens().map((t) => t.name)).not.toContain('sneaky');
  });

  it('refuses a revoked token from then on, and will not revoke a config token', async () => {
    expect(await f.call('DELETE', '/tokens/grafana')).toEqual({ status: 200, body: { name: 'grafana' } });
    expect(await f.call('GET', '/pools', undefined, viewer)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await f.call('DELETE', '/tokens/grafana')).toMatchObject({ status: 404, body: { error: { code: 'TOKEN_NOT_FOUND' } } });
    expect(await f.call('DELETE', '/tokens/config-1')).toMatchObject({ status: 409, body: { error: { code: 'TOKEN_IN_CONFIG' } } });
  });

  it('lists every change and refused change with the name of the token that asked, newest first, in pages', async () => {
    const audit = await f.call('GET', '/audit', undefined, operator);
    const actions = audit.body.entries.map((e: { actor: string; action: string; target: string; code: string }) => `${e.actor} ${e.action} ${e.target} ${e.code}`);
    const freed = audit.body.entries[2].target;
    expect(actions).toEqual([
      'config-1 token-revoke grafana TOKEN_NOT_FOUND',
      'config-1 token-revoke grafana ',
      `helpdesk force-checkin ${freed} `,
      'config-1 token-create grafana TOKEN_EXISTS',
      'config-1 token-create helpdesk ',
      'config-1 token-create grafana ',
      'config-1 license-install LIC-A ',
    ]);
    expect(audit.body.entries[2]).toMatchObject({ detail: 'stuck since Friday', ok: true });
    expect(audit.body.entries[0]).toMatchObject({ ok: false });
    expect(audit.body.nextBefore).toBeNull();
    const page = await f.call('GET', '/audit?limit=2');
    expect(page.body.entries).toHaveLength(2);
    const next = await f.call('GET', `/audit?limit=2&before=${page.body.nextBefore}`);
    expect(next.body.entries.map((e: { action: string }) => e.action)).toEqual(['force-checkin', 'token-create']);
  });
});
