import { describe, expect, it } from 'vitest';
import { decodeConfChange, encodeConfChange } from '../raft/types.ts';
import { addVoterChange, memberOfChange, parseMemberRecord } from './member-record.ts';

const n4 = { id: 'n4', peerUrl: 'ws://10.0.0.4:7601/raft', publicKey: 'a'.repeat(43), clientUrl: 'ws://10.0.0.4:7600' };

describe('member record', () => {
  it('an add-voter change carries the member record through the log and back', () => {
    const change = decodeConfChange(encodeConfChange(addVoterChange(n4)));
    expect(change).toMatchObject({ type: 'add-voter', nodeId: 'n4' });
    expect(memberOfChange(change)).toEqual(n4);
  });

  it('a change whose record names another member, or is no record, carries none', () => {
    expect(memberOfChange({ type: 'add-voter', nodeId: 'n5', context: JSON.stringify(n4) })).toBeUndefined();
    expect(memberOfChange({ type: 'add-voter', nodeId: 'n4', context: '{not json' })).toBeUndefined();
    expect(memberOfChange({ type: 'add-voter', nodeId: 'n4', context: JSON.stringify({ ...n4, peerUrl: 7 }) })).toBeUndefined();
    expect(memberOfChange({ type: 'add-voter', nodeId: 'n4' })).toBeUndefined();
    expect(memberOfChange({ type: 'remove-node', nodeId: 'n4', context: JSON.stringify(n4) })).toBeUndefined();
  });

  it('keeps only the four fields of a record and refuses empty or oversized ones', () => {
    expect(parseMemberRecord({ ...n4, extra: 'x' })).toEqual(n4);
    expect(parseMemberRecord({ ...n4, id: '' })).toBeUndefined();
    expect(parseMemberRecord({ ...n4, clientUrl: 'x'.repeat(3000) })).toBeUndefined();
    const { clientUrl: _, ...noClient } = n4;
    expect(parseMemberRecord(noClient)).toEqual(noClient);
  });
});
