// schema.ts (SQLite) and schema-pg.ts (PostgreSQL) declare one store: the same
// tables, columns, nullability, primary keys, unique constraints and indexes.
// The PostgreSQL tables listed in issue order add a `rowid` (SQLite has one
// implicitly). A change to one schema without the other fails here.
import { getTableConfig as pgConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as sqlite from './schema.ts';
import * as postgres from './schema-pg.ts';

interface Shape {
  readonly columns: string[];
  readonly primaryKey: string[];
  readonly indexes: string[];
}

function shapeOf(config: { columns: { name: string; notNull: boolean; primary: boolean; isUnique: boolean }[]; primaryKeys: { columns: { name: string }[] }[]; indexes: { config: { name?: string | undefined; unique: boolean; columns: unknown[] } }[] }): Shape {
  return {
    columns: config.columns
      .filter((c) => c.name !== 'rowid')
      .map((c) => `${c.name}${c.notNull ? ' not null' : ''}${c.isUnique ? ' unique' : ''}`)
      .sort(),
    primaryKey: [...config.columns.filter((c) => c.primary).map((c) => c.name), ...config.primaryKeys.flatMap((k) => k.columns.map((c) => c.name))].sort(),
    indexes: config.indexes
      .map((i) => `${i.config.name ?? '?'}${i.config.unique ? ' unique' : ''}(${i.config.columns.map((c) => (c as { name: string }).name).join(',')})`)
      .sort(),
  };
}

describe('the key center schema in both dialects', () => {
  it('declares the same tables with the same columns, keys and indexes', () => {
    const sqliteTables = Object.values(sqlite).map((t) => sqliteConfig(t as SQLiteTable));
    const pgTables = Object.values(postgres).map((t) => pgConfig(t as PgTable));
    expect(pgTables.map((t) => t.name).sort()).toEqual(sqliteTables.map((t) => t.name).sort());
    for (const s of sqliteTables) {
      const p = pgTables.find((t) => t.name === s.name)!;
      expect(shapeOf(p), s.name).toEqual(shapeOf(s));
    }
  });
});
