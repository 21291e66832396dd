import { quote, type TableNames } from '../../table-names.js';
import type { DialectMigration } from '../sink-dialect.js';

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

/** SQLite's schema versions. */
export const SQLITE_MIGRATIONS: readonly DialectMigration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: version1 },
];

/** The DDL of the latest version for an empty database. */
export function sqliteSchemaStatements(names: TableNames): string[] {
  return version1(names);
}
