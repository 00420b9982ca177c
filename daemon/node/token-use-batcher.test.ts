import { describe, expect, it, vi } from 'vitest';
import type { AdminApplyResult } from '../admin-state/index.ts';
import type { UnstampedAdminCommand } from './command-codec.ts';
import { TokenUseBatcher } from './token-use-batcher.ts';

const recorded: AdminApplyResult = { reply: { ok: true, type: 'token-use-recorded', tokenCount: 1 }, events: [] };

describe('TokenUseBatcher', () => {
  it('proposes one token-use command per period with each token’s latest use', async () => {
    const proposed: UnstampedAdminCommand[] = [];
    const b = new TokenUseBatcher({ propose: async (c) => (proposed.push(c), recorded), log: () => {} }, 20);
    b.note('a', 100);
    b.note('b', 150);
    b.note('a', 120);
    await vi.waitFor(() => expect(proposed).toHaveLength(1), { timeout: 2000 });
    expect(proposed[0]).toEqual({ type: 'token-use', uses: [{ name: 'a', atMs: 120 }, { name: 'b', atMs: 150 }] });
    b.close();
  });

  it('keeps the uses of a batch no leader took for the next one', async () => {
    const proposed: UnstampedAdminCommand[] = [];
    let fail = true;
    const b = new TokenUseBatcher(
      {
        propose: async (c) => {
          proposed.push(c);
          if (fail) throw new Error('NOT_LEADER');
          return recorded;
        },
        log: () => {},
      },
      20,
    );
    b.note('a', 100);
    await vi.waitFor(() => expect(proposed.length).toBeGreaterThan(0), { timeout: 2000 });
    fail = false;
    const failed = proposed.length;
    await vi.waitFor(() => expect(proposed.length).toBeGreaterThan(failed), { timeout: 2000 });
    expect(proposed.at(-1)).toEqual({ type: 'token-use', uses: [{ name: 'a', atMs: 100 }] });
    b.close();
  });
});
