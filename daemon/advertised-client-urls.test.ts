import { describe, expect, it } from 'vitest';
import { advertisedClientUrls, leaderClientUrl, type AdvertisedClientUrlsInput } from './advertised-client-urls.ts';

const url = (id: string) => `ws://${id}.example:7401/ws`;
const peers = ['n1', 'n2', 'n3'].map((id) => ({ id, clientUrl: url(id) }));
const base: AdvertisedClientUrlsInput = {
  configured: peers.map((p) => p.clientUrl),
  peers,
  added: [],
  memberIds: ['n1', 'n2', 'n3'],
  selfId: 'n1',
};

describe('advertisedClientUrls', () => {
  it('lists the configured client URLs while the membership is the config’s', () => {
    expect(advertisedClientUrls(base)).toEqual([url('n1'), url('n2'), url('n3')]);
  });

  it('lists a member added at run time with the client URL its conf change carried', () => {
    const added = [{ id: 'n4', clientUrl: url('n4') }];
    expect(advertisedClientUrls({ ...base, added, memberIds: ['n1', 'n2', 'n3', 'n4'] })).toEqual([url('n1'), url('n2'), url('n3'), url('n4')]);
  });

  it('no longer lists a member removed at run time, though the config still names it', () => {
    const added = [{ id: 'n4', clientUrl: url('n4') }];
    expect(advertisedClientUrls({ ...base, added, memberIds: ['n1', 'n2', 'n4'] })).toEqual([url('n1'), url('n2'), url('n4')]);
  });

  it('lists a member the config names under the client URL it was added back with', () => {
    const added = [{ id: 'n3', clientUrl: 'ws://n3-new.example:7401/ws' }];
    expect(advertisedClientUrls({ ...base, added })).toEqual([url('n1'), url('n2'), 'ws://n3-new.example:7401/ws']);
  });

  it('keeps an explicit clientUrls list, dropping only the URLs of removed members', () => {
    const configured = ['wss://licenses.example/ws', url('n3')];
    expect(advertisedClientUrls({ ...base, configured, memberIds: ['n1', 'n2'] })).toEqual(['wss://licenses.example/ws']);
  });

  it('lists the configured URLs as they are while the log names no other member (a node waiting to join)', () => {
    expect(advertisedClientUrls({ ...base, memberIds: ['n1'] })).toEqual([url('n1'), url('n2'), url('n3')]);
  });

  it('lists at most 16 URLs', () => {
    const added = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, clientUrl: url(`m${i}`) }));
    const result = advertisedClientUrls({ ...base, added, memberIds: ['n1', ...added.map((m) => m.id)] });
    expect(result).toHaveLength(16);
  });
});

describe('leaderClientUrl', () => {
  it('names the leader’s client URL from the config’s peers', () => {
    expect(leaderClientUrl(base, 'n2', advertisedClientUrls(base))).toBe(url('n2'));
  });

  it('names a member added at run time by the client URL its conf change carried', () => {
    const input = { ...base, added: [{ id: 'n4', clientUrl: url('n4') }], memberIds: ['n1', 'n2', 'n4'] };
    expect(leaderClientUrl(input, 'n4', advertisedClientUrls(input))).toBe(url('n4'));
  });

  it('names nothing without a leader, or when the leader’s URL is not among those told to clients', () => {
    expect(leaderClientUrl(base, '', advertisedClientUrls(base))).toBeUndefined();
    const configured = ['wss://licenses.example/ws'];
    expect(leaderClientUrl({ ...base, configured }, 'n2', advertisedClientUrls({ ...base, configured }))).toBeUndefined();
    expect(leaderClientUrl(base, 'n9', advertisedClientUrls(base))).toBeUndefined();
  });
});
