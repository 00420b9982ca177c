import { describe, expect, it } from 'vitest';
import {
  RECENT_REVOCATIONS_KEEP_MS,
  RECENT_REVOCATIONS_MAX,
  RECENT_REVOCATIONS_PER_SESSION_MAX,
  RecentRevocations,
  type RevokedPush,
} from './recent-revocations.ts';

const push = (leaseId: string): RevokedPush => ({ type: 'revoked', leaseId, feature: 'demo', code: 'FORCE_CHECKIN', reason: `freed ${leaseId}` });

describe('RecentRevocations', () => {
  it('answers a session\'s revocations, oldest first, until they are KEEP_MS old', () => {
    let now = 1_000;
    const recent = new RecentRevocations(() => now);
    recent.record('s1', push('L1'));
    now += 1_000;
    recent.record('s1', push('L2'));
    recent.record('s2', push('L3'));
    expect(recent.of('s1').map((p) => p.leaseId)).toEqual(['L1', 'L2']);
    expect(recent.of('s2').map((p) => p.leaseId)).toEqual(['L3']);
    expect(recent.of('s3')).toEqual([]);
    now += RECENT_REVOCATIONS_KEEP_MS - 1_000;
    expect(recent.of('s1').map((p) => p.leaseId)).toEqual(['L2']);
    now += 1_000;
    expect(recent.of('s1')).toEqual([]);
    recent.record('s4', push('L4')); // a record drops every expired session
    expect(recent.size).toBe(1);
  });

  it('keeps the newest per session and, past the total, drops the sessions recorded longest ago', () => {
    const recent = new RecentRevocations(() => 0);
    for (let i = 0; i < RECENT_REVOCATIONS_PER_SESSION_MAX + 5; i++) recent.record('busy', push(`B${i}`));
    const busy = recent.of('busy');
    expect(busy).toHaveLength(RECENT_REVOCATIONS_PER_SESSION_MAX);
    expect(busy[busy.length - 1]!.leaseId).toBe(`B${RECENT_REVOCATIONS_PER_SESSION_MAX + 4}`);
    for (let i = 0; i < RECENT_REVOCATIONS_MAX; i++) recent.record(`s${i}`, push(`L${i}`));
    expect(recent.size).toBeLessThanOrEqual(RECENT_REVOCATIONS_MAX);
    expect(recent.of('busy')).toEqual([]);
    expect(recent.of(`s${RECENT_REVOCATIONS_MAX - 1}`)).toHaveLength(1);
  });
});
