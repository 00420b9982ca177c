import { describe, expect, it } from 'vitest';
import { createPoolState, decodeSnapshot, encodeSnapshot } from '../pool/index.ts';
import { decodeNodeSnapshot, encodeNodeSnapshot } from './node-snapshot.ts';

const emptyAdmin = { tokens: [], audit: [] };
const member = { id: 'n4', peerUrl: 'ws://10.0.0.4:7601/raft', publicKey: 'a'.repeat(43), clientUrl: 'ws://10.0.0.4:7401/ws' };

describe('node snapshots', () => {
  it('carry the pool and the members added at run time, and give both back', () => {
    const pool = encodeSnapshot(createPoolState());
    const parts = decodeNodeSnapshot(encodeNodeSnapshot(pool, [member], emptyAdmin));
    expect(parts.members).toEqual([member]);
    expect(parts.pool).toEqual(pool);
    expect(decodeSnapshot(parts.pool)).toEqual(createPoolState());
  });

  it('carry the admin state (tokens, audit log) beside the members', () => {
    const pool = encodeSnapshot(createPoolState());
    const admin = { tokens: [], audit: [{ seq: 5 }] };
    const parts = decodeNodeSnapshot(encodeNodeSnapshot(pool, [member], admin));
    expect(parts).toEqual({ pool, members: [member], admin });
  });

  it("refuse a snapshot of a build before 0.1.0 (the pool's bytes alone, or members without admin state) with SNAPSHOT_FORMAT_UNSUPPORTED", () => {
    const pool = encodeSnapshot(createPoolState());
    expect(() => decodeNodeSnapshot(pool)).toThrow(/^SNAPSHOT_FORMAT_UNSUPPORTED: .*empty data directory/);
    const membersAlone = new TextEncoder().encode(`FLOENODE1\n${JSON.stringify([member])}\n`);
    expect(() => decodeNodeSnapshot(membersAlone)).toThrow(/^SNAPSHOT_FORMAT_UNSUPPORTED: /);
  });

  it('drop a member entry that lacks its address or key, and refuse a damaged header', () => {
    const data = encodeNodeSnapshot(new Uint8Array([1, 2]), [member, { id: 'n5' } as never], emptyAdmin);
    expect(decodeNodeSnapshot(data).members).toEqual([member]);
    const cut = new TextEncoder().encode('FLOENODE1\n{"members":[{"id":');
    expect(() => decodeNodeSnapshot(cut)).toThrow(/SNAPSHOT_CORRUPT/);
    const noAdmin = new TextEncoder().encode(`FLOENODE1\n${JSON.stringify({ members: [member] })}\n`);
    expect(() => decodeNodeSnapshot(noAdmin)).toThrow(/SNAPSHOT_CORRUPT: .*admin state/);
  });
});
