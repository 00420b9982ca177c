import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresSkipReason, usePostgres } from '../keycenter/store/postgres-store.test-support.ts';
import { floe, removeTempDirs, tempDir } from './cli-harness.test-support.ts';
import { run as keycenter } from './keycenter.ts';
import { run as lockcode } from './lockcode.ts';

afterEach(removeTempDirs);
const pg = usePostgres();

describe.skipIf(postgresSkipReason !== undefined)('floe keycenter --database postgres://…', () => {
  it('init, entitle, activate and list keep the store on PostgreSQL, not in KC; the config file can name the database instead', async () => {
    const url = await pg.freshDatabaseUrl();
    const root = tempDir();
    const kc = join(root, 'kc');
    expect((await floe(keycenter, 'init', '--dir', kc, '--database', url)).exit).toBe(0);
    expect(existsSync(join(kc, 'keycenter.db'))).toBe(false);
    const code = (await floe(keycenter, 'entitle', '--dir', kc, '--database', url, '--product', 'stats', '--version', '29', '--model', 'concurrent', '--seats', '10')).last;
    const lock = (await floe(lockcode, '--data-dir', join(root, 'n1'))).last;
    const activated = await floe(keycenter, 'activate', '--dir', kc, '--database', url, '--code', code, '--lock-code', lock);
    expect(activated.exit, activated.stderr).toBe(0);
    expect(activated.last).toMatch(/^FLOE1\./);

    // The database named once in KC/keycenter.toml: every command finds the same store.
    writeFileSync(join(kc, 'keycenter.toml'), `database = "${url}"\n`);
    expect((await floe(keycenter, 'list', '--dir', kc)).stdout).toContain(code);
    const again = await floe(keycenter, 'activate', '--dir', kc, '--code', code, '--lock-code', (await floe(lockcode, '--data-dir', join(root, 'n2'))).last);
    expect(again.stderr).toMatch(/^ALREADY_ACTIVATED: /);
    expect(existsSync(join(kc, 'keycenter.db'))).toBe(false);
  });

  it('a --database that is not a postgres:// URL is a usage error; an unreachable one STORE_UNUSABLE without the password', async () => {
    const root = tempDir();
    const kc = join(root, 'kc');
    expect((await floe(keycenter, 'init', '--dir', kc)).exit).toBe(0);
    const bad = await floe(keycenter, 'list', '--dir', kc, '--database', 'mysql://x/y');
    expect(bad.exit).toBe(2);
    expect(bad.stderr).toContain('--database takes a postgres:// URL');
    const gone = await floe(keycenter, 'list', '--dir', kc, '--database', 'postgres://kc:hunter2@127.0.0.1:1/keys');
    expect(gone.exit).not.toBe(0);
    expect(gone.stderr).toMatch(/^STORE_UNUSABLE: /);
    expect(gone.stderr).not.toContain('hunter2');
  });
});
