import { describe, expect, it } from 'vitest';
import { AddressPenalties, PENALTY_FORGET_MS, PENALTY_MS_MAX, PENALTY_MS_MIN } from './address-penalties.ts';

describe('AddressPenalties', () => {
  it('a first offense cools an address for PENALTY_MS_MIN, each further one twice as long up to PENALTY_MS_MAX; others are untouched', () => {
    let now = 0;
    const p = new AddressPenalties(() => now);
    p.offend('10.0.0.1');
    expect(p.coolingMs('10.0.0.1')).toBe(PENALTY_MS_MIN);
    expect(p.coolingMs('10.0.0.2')).toBe(0);
    now += PENALTY_MS_MIN;
    expect(p.coolingMs('10.0.0.1')).toBe(0);
    p.offend('10.0.0.1');
    expect(p.coolingMs('10.0.0.1')).toBe(2 * PENALTY_MS_MIN);
    for (let i = 0; i < 20; i++) p.offend('10.0.0.1');
    expect(p.coolingMs('10.0.0.1')).toBe(PENALTY_MS_MAX);
  });

  it('an address quiet for PENALTY_FORGET_MS starts over', () => {
    let now = 0;
    const p = new AddressPenalties(() => now);
    for (let i = 0; i < 5; i++) p.offend('10.0.0.1');
    now += PENALTY_FORGET_MS + 1;
    p.offend('10.0.0.1');
    expect(p.coolingMs('10.0.0.1')).toBe(PENALTY_MS_MIN);
  });
});
