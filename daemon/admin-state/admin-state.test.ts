import { describe, expect, it } from 'vitest';
import { AUDIT_ENTRIES_MAX, TOKENS_MAX } from './admin-limits.ts';
import { findTokenBySha256, listAudit, listTokens } from './admin-queries.ts';
import { decodeAdminState, encodeAdminState } from './admin-snapshot.ts';
import { applyAdminCommand, createAdminState, recordAudit } from './admin-state.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('the admin state machine', () => {
  it('creates a token by name and role, finds it by digest, lists it without the digest, and revokes it', () => {
    const s = createAdminState();
    expect(applyAdminCommand(s, { type: 'token-create', at: 1000, name: 'grafana', role: 'viewer', tokenSha256: sha(1), actor: 'config-1' }).reply).toEqual({
      ok: true,
      type: 'token-created',
      name: 'grafana',
      role: 'viewer',
    });
    expect(findTokenBySha256(s, sha(1))?.name).toBe('grafana');
    expect(listTokens(s)).toEqual([{ name: 'grafana', role: 'viewer', createdAt: 1000, createdBy: 'config-1', lastUsedAt: null }]);
    expect(applyAdminCommand(s, { type: 'token-revoke', at: 2000, name: 'grafana' }).reply).toMatchObject({ ok: true });
    expect(findTokenBySha256(s, sha(1))).toBeUndefined();
    expect(applyAdminCommand(s, { type: 'token-revoke', at: 2000, name: 'grafana' }).reply).toMatchObject({ ok: false, code: 'TOKEN_NOT_FOUND' });
  });

  it('refuses a second token of the same name or digest, a config- name, and more than its limit, changing nothing', () => {
    const s = createAdminState();
    applyAdminCommand(s, { type: 'token-create', at: 1, name: 'a', role: 'admin', tokenSha256: sha(1) });
    expect(applyAdminCommand(s, { type: 'token-create', at: 2, name: 'a', role: 'viewer', tokenSha256: sha(2) }).reply).toMatchObject({ code: 'TOKEN_EXISTS' });
    expect(applyAdminCommand(s, { type: 'token-create', at: 2, name: 'b', role: 'viewer', tokenSha256: sha(1) }).reply).toMatchObject({ code: 'TOKEN_EXISTS' });
    expect(applyAdminCommand(s, { type: 'token-create', at: 2, name: 'config-2', role: 'viewer', tokenSha256: sha(3) }).reply).toMatchObject({ code: 'BAD_REQUEST' });
    for (let i = 10; s.tokens.size < TOKENS_MAX; i++) applyAdminCommand(s, { type: 'token-create', at: 3, name: `t${i}`, role: 'viewer', tokenSha256: sha(i) });
    expect(applyAdminCommand(s, { type: 'token-create', at: 4, name: 'one-more', role: 'viewer', tokenSha256: sha(99_999) }).reply).toMatchObject({
      code: 'TOKENS_LIMIT_REACHED',
    });
    expect(s.tokens.size).toBe(TOKENS_MAX);
    expect(s.tokenNameBySha256.size).toBe(TOKENS_MAX);
  });

  it('records the latest use of each token, never moving it back, and ignores uses of revoked tokens', () => {
    const s = createAdminState();
    applyAdminCommand(s, { type: 'token-create', at: 1, name: 'a', role: 'viewer', tokenSha256: sha(1) });
    applyAdminCommand(s, { type: 'token-use', at: 500, uses: [{ name: 'a', atMs: 400 }, { name: 'gone', atMs: 400 }] });
    applyAdminCommand(s, { type: 'token-use', at: 600, uses: [{ name: 'a', atMs: 300 }] });
    expect(listTokens(s)[0]?.lastUsedAt).toBe(400);
  });

  it('keeps an audit entry for each command that names its actor, the newest AUDIT_ENTRIES_MAX, pageable by seq', () => {
    const s = createAdminState();
    recordAudit(s, { type: 'renew', at: 1 }, 1, { ok: true });
    expect(s.audit).toEqual([]);
    recordAudit(s, { type: 'force-checkin', at: 5, actor: 'ops', leaseId: 'L1', reason: 'left' } as never, 7, { ok: false, code: 'LEASE_NOT_FOUND' });
    expect(s.audit).toEqual([{ seq: 7, at: 5, actor: 'ops', action: 'force-checkin', target: 'L1', detail: 'left', ok: false, code: 'LEASE_NOT_FOUND' }]);
    recordAudit(s, { type: 'license-install', at: 6, actor: 'ops', license: { licenseId: 'LIC-1' } } as never, 8, { ok: true });
    expect(s.audit[1]).toMatchObject({ action: 'license-install', target: 'LIC-1' });
    for (let i = 0; i < AUDIT_ENTRIES_MAX + 10; i++) recordAudit(s, { type: 'audit-note', at: 9, actor: 'x', action: 'member-add', target: `n${i}` } as never, 100 + i, { ok: true });
    expect(s.audit.length).toBe(AUDIT_ENTRIES_MAX);
    const page = listAudit(s, { limit: 3 });
    expect(page.map((e) => e.seq)).toEqual([100 + AUDIT_ENTRIES_MAX + 9, 100 + AUDIT_ENTRIES_MAX + 8, 100 + AUDIT_ENTRIES_MAX + 7]);
    expect(listAudit(s, { limit: 2, beforeSeq: page[2]!.seq }).map((e) => e.seq)).toEqual([page[2]!.seq - 1, page[2]!.seq - 2]);
  });

  it('survives a snapshot round trip, and a damaged snapshot is refused', () => {
    const s = createAdminState();
    applyAdminCommand(s, { type: 'token-create', at: 1, name: 'a', role: 'operator', tokenSha256: sha(1), actor: 'config-1' });
    recordAudit(s, { type: 'token-create', at: 1, actor: 'config-1', name: 'a', role: 'operator' } as never, 3, { ok: true });
    const back = decodeAdminState(JSON.parse(JSON.stringify(encodeAdminState(s))));
    expect(back).toEqual(s);
    expect(() => decodeAdminState(undefined)).toThrow(/SNAPSHOT_CORRUPT/);
    expect(() => decodeAdminState({ tokens: [{ name: 'a' }], audit: [] })).toThrow(/SNAPSHOT_CORRUPT/);
    expect(() => decodeAdminState({ tokens: [], audit: [{ seq: 'x' }] })).toThrow(/SNAPSHOT_CORRUPT/);
  });
});
