// The walkthrough of docs/operations.md is pasted into bash verbatim: each
// block must at least be valid bash, and the steps must come in order.
// Running it for real takes minutes and a quiet machine: `npm run
// docs:walkthrough` (test/docs/walkthrough.ts).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { walkthroughBlocks } from './walkthrough.test-support.ts';

describe('the walkthrough of docs/operations.md', () => {
  const blocks = walkthroughBlocks();

  it('has a shell block for each step from 0 (floe on the PATH) to 10 (clean up)', () => {
    expect([...new Set(blocks.map((b) => b.step))]).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  });

  it('every block is valid bash (bash -n)', () => {
    for (const { step, script } of blocks) {
      const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      expect(r.stderr, `step ${step}`).toBe('');
      expect(r.status, `step ${step}`).toBe(0);
    }
  });

  it('the syntax check fails on a block that is not bash', () => {
    const [broken] = walkthroughBlocks('## Walkthrough: from an order to a restored cluster\n\n**1. x**\n\n```sh\nfor i in 1 2; do echo $i\n```\n');
    expect(spawnSync('bash', ['-n'], { input: broken!.script, encoding: 'utf8' }).status).not.toBe(0);
  });
});
