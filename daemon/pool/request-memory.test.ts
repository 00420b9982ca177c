import { describe, expect, it } from 'vitest';
import { createPoolState } from './pool-state.ts';
import { clientRequests, forget, orderedRequests, recall, remember, requestKey } from './request-memory.ts';
import type { PoolReply } from './results.ts';

const key = requestKey({ type: 'checkin', leaseId: 'L1' });
const reply = (n: number): PoolReply => ({ ok: true, type: 'checked-in', leaseId: `L${n}`, lingerUntilMs: n });

describe('request memory', () => {
  it('a retry of the same request gets the first reply back', () => {
    const state = createPoolState();
    remember(state, 'c1', 'r1', key, reply(1));
    expect(recall(state, 'c1', 'r1', key)).toEqual(reply(1));
    expect(recall(state, 'c2', 'r1', key)).toBeUndefined();
  });

  it('a requestId reused for another request is refused with REQUEST_ID_REUSED', () => {
    const state = createPoolState();
    remember(state, 'c1', 'r1', key, reply(1));
    const other = requestKey({ type: 'checkout', feature: 'cad', version: '1.0', count: 1, wait: false });
    expect(recall(state, 'c1', 'r1', other)).toMatchObject({ ok: false, code: 'REQUEST_ID_REUSED' });
  });

  it('beyond its limit a client forgets its oldest request first', () => {
    const state = createPoolState({ requestsPerClientRememberedMax: 3 });
    for (let i = 1; i <= 5; i++) remember(state, 'c1', `r${i}`, key, reply(i));
    expect(orderedRequests(clientRequests(state, 'c1')).map(([id]) => id)).toEqual(['r3', 'r4', 'r5']);
    expect(recall(state, 'c1', 'r2', key)).toBeUndefined();
    expect(recall(state, 'c1', 'r5', key)).toEqual(reply(5));
  });

  it('beyond the client limit the client first remembered is forgotten', () => {
    const state = createPoolState({ clientsRememberedMax: 2 });
    remember(state, 'c1', 'r1', key, reply(1));
    remember(state, 'c2', 'r1', key, reply(2));
    remember(state, 'c3', 'r1', key, reply(3));
    expect(recall(state, 'c1', 'r1', key)).toBeUndefined();
    expect([...state.remembered.keys()]).toEqual(['c2', 'c3']);
  });

  it('forgetting one request keeps the others in their order, also after the ring wrapped', () => {
    const state = createPoolState({ requestsPerClientRememberedMax: 3 });
    for (let i = 1; i <= 4; i++) remember(state, 'c1', `r${i}`, key, reply(i));
    forget(state, 'c1', 'r3');
    expect(orderedRequests(clientRequests(state, 'c1')).map(([id]) => id)).toEqual(['r2', 'r4']);
    remember(state, 'c1', 'r5', key, reply(5));
    remember(state, 'c1', 'r6', key, reply(6));
    expect(orderedRequests(clientRequests(state, 'c1')).map(([id]) => id)).toEqual(['r4', 'r5', 'r6']);
    expect(recall(state, 'c1', 'r3', key)).toBeUndefined();
  });
});
