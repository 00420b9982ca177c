// Test support for the walkthrough of docs/operations.md: its shell blocks,
// as a newcomer pastes them. Shared by its syntax test (npm test) and by
// `npm run docs:walkthrough`, which runs them for real.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The walkthrough's heading in docs/operations.md. */
export const WALKTHROUGH_HEADING = '## Walkthrough: from an order to a restored cluster';

/** Each ```sh block of the walkthrough, in order, with the step it belongs to. */
export function walkthroughBlocks(text = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8')): { step: string; script: string }[] {
  const start = text.indexOf(WALKTHROUGH_HEADING);
  if (start < 0) throw new Error(`docs/operations.md has no "${WALKTHROUGH_HEADING}"`);
  const end = text.indexOf('\n## ', start + WALKTHROUGH_HEADING.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  const blocks: { step: string; script: string }[] = [];
  let step = 'intro';
  for (const part of section.split(/^```/m).map((p, i) => [p, i] as const)) {
    const [body, i] = part;
    if (i % 2 === 0) {
      const steps = [...body.matchAll(/^\*\*(\d+)\./gm)];
      if (steps.length > 0) step = steps.at(-1)![1]!;
    } else if (body.startsWith('sh\n')) {
      blocks.push({ step, script: body.slice('sh\n'.length) });
    }
  }
  return blocks;
}
