import type { CompiledQuery, Dialect, Kysely, Transaction } from 'kysely';
import type { DatabaseSinkConfig } from '../database-sink-config.js';
import type { DatabaseDialectName, DatabaseTarget } from '../database-url.js';
import type { RecordRow } from '../record-rows.js';
import type { TableNames } from '../table-names.js';

/** A connection or transaction the migrations run statements on. */
export type MigrationExecutor = Kysely<unknown> | Transaction<unknown>;

/** One schema version of the records and checkpoint tables, as one dialect applies it. */
export interface DialectMigration {
  version: number;
  name: string;
  /** The statements that bring the previous version to this one, run in order. */
  statements(names: TableNames): string[];
  /** Where DDL is not transactional (MySQL): true when the statements already ran. */
  alreadyApplied?(db: MigrationExecutor, names: TableNames): Promise<boolean>;
}

/**
 * What differs between SQLite, PostgreSQL and MySQL for the sink: connecting (and the
 * per-connection settings), the DDL of each schema version, the insert statement, the
 * checkpoint upsert and the lock that serializes migrations between processes. One file
 * set per dialect under `dialects/<name>/` implements it; everything else is shared.
 */
export interface SinkDialect {
  readonly name: DatabaseDialectName;
  /** Bound parameters one statement may carry. */
  readonly parameterLimit: number;
  /** The Kysely dialect for `target`, with the sink's connection settings. */
  createKyselyDialect(target: DatabaseTarget, config: DatabaseSinkConfig): Dialect;
  /** The DDL that creates the tables of the latest schema version in an empty database. */
  schemaStatements(names: TableNames): string[];
  /** Every schema version, oldest first. Append, never edit: deployed databases record what ran. */
  readonly migrations: readonly DialectMigration[];
  /** The DDL of the table that records the applied versions. */
  migrationsTableStatement(names: TableNames): string;
  /** Runs `work` holding this table's migration lock against other processes. */
  withMigrationLock<T>(db: Kysely<unknown>, names: TableNames, work: (db: MigrationExecutor) => Promise<T>): Promise<T>;
  /** One statement inserting `rows` (at most `rowsPerInsert`), ignoring rows already stored. */
  insertRecords(names: TableNames, rows: readonly RecordRow[]): CompiledQuery;
  /** One statement inserting or replacing a checkpoint row. */
  upsertCheckpoint(names: TableNames, key: string, value: string, updatedAt: string): CompiledQuery;
}
