// MemoryStorage's own behaviour; the shared storage contract runs against it
// in memory-storage.contract.test.ts.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from './memory-storage.ts';

describe('MemoryStorage', () => {
  it('a storage built with a membership starts with a snapshot at index 0 carrying it', () => {
    const s = new MemoryStorage({ voters: ['n1', 'n2', 'n3'], learners: [] });
    expect(s.snapshot().metadata).toEqual({ index: 0, term: 0, confState: { voters: ['n1', 'n2', 'n3'], learners: [] } });
    expect(s.initialState().confState.voters).toEqual(['n1', 'n2', 'n3']);
    expect(s.firstIndex()).toBe(1);
  });
});
