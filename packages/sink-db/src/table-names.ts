import type { DatabaseDialectName } from './database-url.js';

/** The names of the sink's tables, validated identifiers. */
export interface TableNames {
  /** PostgreSQL schema / MySQL database, when not the connection's default. */
  schema: string | undefined;
  records: string;
  checkpoints: string;
  /** Holds the applied schema versions of `records` (`<records>_migrations`). */
  migrations: string;
}

/** Column limits shared by every dialect, so a record that fits one database fits all. */
export const COLUMN_LIMITS = {
  /** provider, account, id, customer, agent, checkpoint key: VARCHAR(191) keeps MySQL's utf8mb4 keys within index limits. */
  key: 191,
  /** direction, kind, event. */
  label: 64,
} as const;

/** An identifier quoted for the dialect (names are validated config identifiers). */
export function quote(dialect: DatabaseDialectName, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** `schema.table` quoted for the dialect. */
export function qualifiedName(dialect: DatabaseDialectName, names: TableNames, table: string): string {
  return names.schema ? `${quote(dialect, names.schema)}.${quote(dialect, table)}` : quote(dialect, table);
}
