import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEMBER_DIRECTORY_FILE_NAME, MemberDirectory } from './member-directory.ts';

const n4 = { id: 'n4', peerUrl: 'ws://10.0.0.4:7601/raft', publicKey: 'A'.repeat(43), clientUrl: 'ws://10.0.0.4:7401/ws' };

describe('MemberDirectory', () => {
  it('remembers across a reload the members added and removed by applied conf changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-members-'));
    const directory = MemberDirectory.load(dir);
    expect(directory.addedMembers()).toEqual([]);
    directory.recordAdded(n4);
    directory.recordRemoved('n3');
    const reloaded = MemberDirectory.load(dir);
    expect(reloaded.addedMembers()).toEqual([n4]);
    expect(reloaded.isRemoved('n3')).toBe(true);
    expect(reloaded.isRemoved('n4')).toBe(false);
  });

  it('a member removed and added back again is a member, with its latest address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-members-'));
    const directory = MemberDirectory.load(dir);
    directory.recordAdded(n4);
    directory.recordRemoved('n4');
    expect(MemberDirectory.load(dir).addedMembers()).toEqual([]);
    directory.recordAdded({ ...n4, peerUrl: 'ws://10.0.0.5:7601/raft' });
    const reloaded = MemberDirectory.load(dir);
    expect(reloaded.isRemoved('n4')).toBe(false);
    expect(reloaded.addedMembers()).toEqual([{ ...n4, peerUrl: 'ws://10.0.0.5:7601/raft' }]);
  });

  it('refuses a damaged file with MEMBER_DIRECTORY_CORRUPT instead of forgetting members', () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-members-'));
    writeFileSync(join(dir, MEMBER_DIRECTORY_FILE_NAME), '{"format":"floe-cluster-members","v":1,"members":[{"id":7}],"removed":[]}');
    expect(() => MemberDirectory.load(dir)).toThrow(/MEMBER_DIRECTORY_CORRUPT/);
  });
});
