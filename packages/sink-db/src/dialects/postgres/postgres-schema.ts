import { COLUMN_LIMITS, qualifiedName, quote, type TableNames } from '../../table-names.js';
import type { DialectMigration } from '../sink-dialect.js';

const KEY = `VARCHAR(${COLUMN_LIMITS.key})`;
const LABEL = `VARCHAR(${COLUMN_LIMITS.label})`;

/** The record columns every version shares. */
const RECORD_COLUMNS_DDL = `  provider ${KEY} NOT NULL,
  account ${KEY} NOT NULL,
  id ${KEY} NOT NULL,
  customer ${KEY} NOT NULL,
  agent ${KEY} NULL,
  direction ${LABEL} NOT NULL,
  kind ${LABEL} NOT NULL,
  event ${LABEL} NULL,
  text TEXT NULL,
  attachments JSONB NULL,
  at TIMESTAMPTZ(3) NOT NULL,
  raw JSONB NOT NULL,
  inserted_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()`;

function index(names: TableNames, suffix: string, columns: string): string {
  return `CREATE INDEX IF NOT EXISTS ${quote('postgres', `${names.records}_${suffix}`)} ON ${qualifiedName('postgres', names, names.records)} (${columns})`;
}

function checkpointsTable(names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName('postgres', names, names.checkpoints)} (
  checkpoint_key ${KEY} NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TIMESTAMPTZ(3) NOT NULL
)`;
}

/** Version 1: keyed by (provider, account, id). */
function version1(names: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualifiedName('postgres', names, names.records)} (
${RECORD_COLUMNS_DDL},
  PRIMARY KEY (provider, account, id)
)`,
    index(names, 'account_at_idx', 'account, at'),
    index(names, 'customer_at_idx', 'customer, at'),
    index(names, 'at_idx', 'at'),
    checkpointsTable(names),
  ];
}

/**
 * Version 2 keys rows by (provider, account, at, id), so a sync's inserts append at the
 * right edge of the key's B-tree instead of landing at random places (see the SQLite
 * schema for why the wider key still stores each record once). Its prefix replaces
 * version 1's (account, at) index.
 */
function version2Indexes(names: TableNames): string[] {
  return [index(names, 'customer_at_idx', 'customer, at'), index(names, 'at_idx', 'at')];
}

/** Version 1 → 2, inside the migration's transaction: swap the key, drop the index it covers. */
function upgradeTo2(names: TableNames): string[] {
  const table = qualifiedName('postgres', names, names.records);
  const oldIndex = names.schema
    ? `${quote('postgres', names.schema)}.${quote('postgres', `${names.records}_account_at_idx`)}`
    : quote('postgres', `${names.records}_account_at_idx`);
  return [
    `ALTER TABLE ${table} DROP CONSTRAINT ${quote('postgres', `${names.records}_pkey`)}, ADD PRIMARY KEY (provider, account, at, id)`,
    `DROP INDEX IF EXISTS ${oldIndex}`,
  ];
}

/** PostgreSQL's schema versions. */
export const POSTGRES_MIGRATIONS: readonly DialectMigration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: version1 },
  { version: 2, name: 'time-ordered-key', statements: upgradeTo2 },
];

/** The DDL of the latest version for an empty database. */
export function postgresSchemaStatements(names: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualifiedName('postgres', names, names.records)} (
${RECORD_COLUMNS_DDL},
  PRIMARY KEY (provider, account, at, id)
)`,
    ...version2Indexes(names),
    checkpointsTable(names),
  ];
}
