// Runs the storage contract against the daemon's SQLite storage, and checks
// what only a disk-backed storage must do: read back after a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, SqliteRaftStorage } from '../../daemon/storage/index.ts';
import { storageContract } from '../../daemon/raft/storage-contract.test-support.ts';

storageContract('SqliteRaftStorage', () => new SqliteRaftStorage(openDatabase(':memory:')));

describe('SqliteRaftStorage on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-storage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a reopened database holds the same log, hard state, base and snapshot', () => {
    const path = join(dir, 'a.sqlite');
    const db = openDatabase(path);
    const s = new SqliteRaftStorage(db, { initialConfState: { voters: ['n1'], learners: [] } });
    const enc = new TextEncoder();
    s.atomically(() => {
      s.append([1, 2, 3, 4, 5, 6].map((i) => ({ index: i, term: i < 4 ? 1 : 2, type: 'normal' as const, data: enc.encode(`e${i}`) })));
      s.setHardState({ term: 2, vote: 'n1', commit: 6 });
    });
    s.createSnapshot(4, { voters: ['n1'], learners: [] }, enc.encode('snap'));
    s.compact(3);
    db.close();

    const again = new SqliteRaftStorage(openDatabase(path));
    expect(again.initialState()).toEqual({ hardState: { term: 2, vote: 'n1', commit: 6 }, confState: { voters: ['n1'], learners: [] } });
    expect(again.firstIndex()).toBe(4);
    expect(again.lastIndex()).toBe(6);
    expect(again.term(3)).toBe(1);
    expect(new TextDecoder().decode(again.entries(5, 6, 1000)[0]!.data)).toBe('e5');
    expect(new TextDecoder().decode(again.snapshot().data)).toBe('snap');
    expect(again.snapshot().metadata.index).toBe(4);
  });

  it('a database gets a storage id when it is created, keeps it across reopens, and a rejoining hard state survives', () => {
    const path = join(dir, 'c.sqlite');
    const db = openDatabase(path);
    const s = new SqliteRaftStorage(db);
    expect(s.created).toBe(true);
    expect(s.storageId).toMatch(/^[0-9a-f]{32}$/);
    s.setHardState({ term: 3, vote: '', commit: 0, rejoining: true });
    db.close();
    const again = new SqliteRaftStorage(openDatabase(path));
    expect(again.created).toBe(false);
    expect(again.storageId).toBe(s.storageId);
    expect(again.initialState().hardState).toEqual({ term: 3, vote: '', commit: 0, rejoining: true });
    const other = new SqliteRaftStorage(openDatabase(join(dir, 'd.sqlite')));
    expect(other.storageId).not.toBe(s.storageId);
  });

  it('a fresh database records the initial membership', () => {
    const path = join(dir, 'b.sqlite');
    const db = openDatabase(path);
    new SqliteRaftStorage(db, { initialConfState: { voters: ['n1', 'n2', 'n3'], learners: [] } });
    db.close();
    const again = new SqliteRaftStorage(openDatabase(path));
    expect(again.initialState().confState.voters).toEqual(['n1', 'n2', 'n3']);
  });
});
