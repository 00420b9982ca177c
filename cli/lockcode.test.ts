import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { floe, removeTempDirs, tempDir } from './cli-harness.ts';
import { run as lockcode } from './lockcode.ts';

afterEach(removeTempDirs);

describe('floe lockcode', () => {
  it('prints the lock code as its last line, stable across calls, different per data dir', async () => {
    const root = tempDir();
    const a = await floe(lockcode, '--data-dir', join(root, 'a'));
    expect(a.exit).toBe(0);
    expect(a.last).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    expect((await floe(lockcode, '--data-dir', join(root, 'a'))).last).toBe(a.last);
    expect((await floe(lockcode, '--data-dir', join(root, 'b'))).last).not.toBe(a.last);
    const json = JSON.parse((await floe(lockcode, '--data-dir', join(root, 'a'), '--json')).last) as { lockCode: string };
    expect(json.lockCode).toBe(a.last);
  });

  it('answers bad arguments and an unusable data dir with a code and no stack trace', async () => {
    const root = tempDir();
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    const unusable = await floe(lockcode, '--data-dir', file);
    expect(unusable.exit).toBe(1);
    expect(unusable.stderr).toMatch(/^DATA_DIR_UNUSABLE: /);
    const bad = await floe(lockcode, '--nope');
    expect(bad.exit).toBe(2);
    expect(bad.stderr).toMatch(/^BAD_REQUEST: /);
  });
});
