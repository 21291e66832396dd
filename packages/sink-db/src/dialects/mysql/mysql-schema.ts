import { COLUMN_LIMITS, qualifiedName, quote, type TableNames } from '../../table-names.js';
import type { DialectMigration } from '../sink-dialect.js';

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

/** MySQL's schema versions. */
export const MYSQL_MIGRATIONS: readonly DialectMigration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: version1 },
];

/** The DDL of the latest version for an empty database. */
export function mysqlSchemaStatements(names: TableNames): string[] {
  return version1(names);
}
