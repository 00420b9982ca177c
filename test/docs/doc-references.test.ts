// The docs name only files that are in the repository: every Markdown link
// and every repository path a doc mentions (docs/…, deploy/…, cli/…) exists,
// so a sysadmin following them never lands on a missing file, and a file
// renamed without its docs fails here.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];
/** A repository path in running text: a top folder, then a file or folder name (globs and `…` placeholders are not paths). */
const REPO_PATH = /(?<![\w/.$-])(?:docs|deploy|test|daemon|cli|admin|client|keycenter|protocol|bench|bin)\/[\w./-]*\w/g;
const MARKDOWN_LINK = /\]\(([^)#\s]+)(?:#[^)]*)?\)/g;
/** A document named on its own ("see CONTRACT.md"): it must be at the top, in docs/ or beside the doc. */
const BARE_DOC = /(?<![\w/.(-])[\w-]+\.md\b/g;

function missing(doc: string): string[] {
  const text = readFileSync(doc, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(MARKDOWN_LINK)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) out.push(`${target} (a link out of the repository)`);
    else if (!existsSync(join(dirname(doc), target))) out.push(target);
  }
  for (const m of text.matchAll(BARE_DOC)) {
    if (![ROOT, join(ROOT, 'docs'), dirname(doc)].some((dir) => existsSync(join(dir, m[0])))) out.push(m[0]);
  }
  for (const m of text.matchAll(REPO_PATH)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 1);
    if (after === '*' || after === '…') continue;
    if (!existsSync(join(ROOT, m[0]))) out.push(m[0]);
  }
  return out;
}

describe('the docs', () => {
  it.each(DOCS.map((d) => [d.slice(ROOT.length + 1), d]))('%s names only files that exist', (_name, doc) => {
    expect(missing(doc)).toEqual([]);
  });

  it('the check finds a missing file, a document outside the repository and a link out of it', () => {
    const doc = join(mkdtempSync(join(tmpdir(), 'floe-docs-')), 'guide.md');
    writeFileSync(doc, 'See [the guide](nowhere.md), [upstream](https://example.com/x), CONTRACT.md, deploy/floe.nothing and deploy/floe.service.\n');
    try {
      expect(missing(doc)).toEqual(['nowhere.md', 'https://example.com/x (a link out of the repository)', 'CONTRACT.md', 'deploy/floe.nothing']);
    } finally {
      rmSync(dirname(doc), { recursive: true, force: true });
    }
  });
});
