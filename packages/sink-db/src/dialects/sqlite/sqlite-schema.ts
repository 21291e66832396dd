import { RECORD_COLUMNS } from '../../record-rows.js';
import { quote, type TableNames } from '../../table-names.js';
import type { DialectMigration } from '../sink-dialect.js';

const RECORD_COLUMN_NAMES = RECORD_COLUMNS.join(', ');

const q = (name: string) => quote('sqlite', name);
const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

/** The record columns every version shares (SQLite: TEXT, timestamps as sortable ISO-8601 text). */
const RECORD_COLUMNS_DDL = `  provider TEXT NOT NULL,
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  customer TEXT NOT NULL,
  agent TEXT NULL,
  direction TEXT NOT NULL,
  kind TEXT NOT NULL,
  event TEXT NULL,
  text TEXT NULL,
  attachments TEXT NULL,
  at TEXT NOT NULL,
  raw TEXT NOT NULL,
  inserted_at TEXT NOT NULL DEFAULT ${NOW}`;

function index(names: TableNames, suffix: string, columns: string): string {
  return `CREATE INDEX IF NOT EXISTS ${q(`${names.records}_${suffix}`)} ON ${q(names.records)} (${columns})`;
}

function checkpointsTable(names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${q(names.checkpoints)} (
  checkpoint_key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
)`;
}

/** Version 1: keyed by (provider, account, id). */
function version1(names: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(names.records)} (
${RECORD_COLUMNS_DDL},
  PRIMARY KEY (provider, account, id)
)`,
    index(names, 'account_at_idx', 'account, at'),
    index(names, 'customer_at_idx', 'customer, at'),
    index(names, 'at_idx', 'at'),
    checkpointsTable(names),
  ];
}

/** The records table of version 2, under `table`: keyed in time order (see TIME_ORDERED_KEY). */
function recordsTable2(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${q(table)} (
${RECORD_COLUMNS_DDL},
  ${TIME_ORDERED_KEY}
)`;
}

/**
 * Version 2 keys rows by (provider, account, at, id): a sync writes in time order, so
 * inserts append at the right edge of the key's B-tree instead of landing at random
 * places (the content-hash id alone), which at 1 M rows no longer fits the page cache.
 * An id names one record at one time (providers derive it from content that includes
 * the time), so the wider key still stores each record once. (provider, account, at)
 * is the key's prefix, which replaces version 1's (account, at) index.
 */
const TIME_ORDERED_KEY = 'PRIMARY KEY (provider, account, at, id)';

function version2Indexes(names: TableNames): string[] {
  return [index(names, 'customer_at_idx', 'customer, at'), index(names, 'at_idx', 'at')];
}

/**
 * Version 1 → 2 in the migration's one transaction: copy the rows in key order into a
 * table with the new key, drop the old one (and its indexes), rename, index.
 */
function upgradeTo2(names: TableNames): string[] {
  const next = `${names.records}_v2`;
  const columns = `${RECORD_COLUMN_NAMES}, inserted_at`;
  return [
    `DROP TABLE IF EXISTS ${q(next)}`,
    recordsTable2(next),
    `INSERT INTO ${q(next)} (${columns}) SELECT ${columns} FROM ${q(names.records)} ORDER BY provider, account, at, id`,
    `DROP TABLE ${q(names.records)}`,
    `ALTER TABLE ${q(next)} RENAME TO ${q(names.records)}`,
    ...version2Indexes(names),
  ];
}

/** SQLite's schema versions. */
export const SQLITE_MIGRATIONS: readonly DialectMigration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: version1 },
  { version: 2, name: 'time-ordered-key', statements: upgradeTo2 },
];

/** The DDL of the latest version for an empty database. */
export function sqliteSchemaStatements(names: TableNames): string[] {
  return [recordsTable2(names.records), ...version2Indexes(names), checkpointsTable(names)];
}
