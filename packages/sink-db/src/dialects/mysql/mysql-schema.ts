import { sql } from 'kysely';
import { COLUMN_LIMITS, qualifiedName, quote, type TableNames } from '../../table-names.js';
import type { DialectMigration, MigrationExecutor } from '../sink-dialect.js';

const KEY = `VARCHAR(${COLUMN_LIMITS.key})`;
const LABEL = `VARCHAR(${COLUMN_LIMITS.label})`;
// utf8mb4 for emoji; utf8mb4_bin because ids and openids are case-sensitive (a _ci
// collation would make `oAbc` and `oabc` collide in the unique key and drop a record).
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** The record columns every version shares. */
const RECORD_COLUMNS_DDL = `  provider ${KEY} NOT NULL,
  account ${KEY} NOT NULL,
  id ${KEY} NOT NULL,
  customer ${KEY} NOT NULL,
  agent ${KEY} NULL,
  direction ${LABEL} NOT NULL,
  kind ${LABEL} NOT NULL,
  event ${LABEL} NULL,
  text MEDIUMTEXT NULL,
  attachments JSON NULL,
  at DATETIME(3) NOT NULL,
  raw JSON NOT NULL,
  inserted_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)`;

const indexName = (names: TableNames, suffix: string) => quote('mysql', `${names.records}_${suffix}`);

function checkpointsTable(names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName('mysql', names, names.checkpoints)} (
  checkpoint_key ${KEY} NOT NULL PRIMARY KEY,
  value MEDIUMTEXT NOT NULL,
  updated_at DATETIME(3) NOT NULL
) ${TABLE_OPTIONS}`;
}

/** Version 1: keyed by (provider, account, id). */
function version1(names: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualifiedName('mysql', names, names.records)} (
${RECORD_COLUMNS_DDL},
  PRIMARY KEY (provider, account, id),
  KEY ${indexName(names, 'account_at_idx')} (account, at),
  KEY ${indexName(names, 'customer_at_idx')} (customer, at),
  KEY ${indexName(names, 'at_idx')} (at)
) ${TABLE_OPTIONS}`,
    checkpointsTable(names),
  ];
}

/**
 * Version 1 → 2 in one ALTER (InnoDB rebuilds the table in key order): the clustered key
 * becomes (provider, account, at, id), so a sync's inserts append instead of landing at
 * random places (see the SQLite schema for why the wider key still stores each record
 * once); its prefix replaces the (account, at) index. MySQL's DDL commits on its own, so
 * the step checks first whether it already ran (a crash before its version was recorded).
 */
function upgradeTo2(names: TableNames): string[] {
  return [
    `ALTER TABLE ${qualifiedName('mysql', names, names.records)} DROP PRIMARY KEY, ADD PRIMARY KEY (provider, account, at, id), DROP INDEX ${indexName(names, 'account_at_idx')}`,
  ];
}

async function upgradedTo2(db: MigrationExecutor, names: TableNames): Promise<boolean> {
  const result = await sql<{ found: number | string }>`select count(*) as found from information_schema.statistics
    where table_schema = coalesce(${names.schema ?? null}, database()) and table_name = ${names.records}
      and index_name = 'PRIMARY' and column_name = 'at'`.execute(db);
  return Number(result.rows[0]?.found ?? 0) > 0;
}

/** MySQL's schema versions. */
export const MYSQL_MIGRATIONS: readonly DialectMigration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: version1 },
  { version: 2, name: 'time-ordered-key', statements: upgradeTo2, alreadyApplied: upgradedTo2 },
];

/** The DDL of the latest version for an empty database. */
export function mysqlSchemaStatements(names: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualifiedName('mysql', names, names.records)} (
${RECORD_COLUMNS_DDL},
  PRIMARY KEY (provider, account, at, id),
  KEY ${indexName(names, 'customer_at_idx')} (customer, at),
  KEY ${indexName(names, 'at_idx')} (at)
) ${TABLE_OPTIONS}`,
    checkpointsTable(names),
  ];
}
