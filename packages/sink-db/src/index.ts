/**
 * @kefu/sink-db: records into SQLite (embedded default), PostgreSQL or MySQL/MariaDB, with
 * checkpoints committed in the same transaction (exactly-once). See README.md.
 */
export { COLUMN_LIMITS, LATEST_SCHEMA_VERSION, schemaStatements, type TableNames } from './database-schema.js';
export {
  DatabaseSink,
  type DatabaseSinkOptions,
  type RecordFilter,
  RecordFilterSchema,
} from './database-sink.js';
export {
  type DatabaseSinkConfig,
  type DatabaseSinkConfigInput,
  DatabaseSinkConfigSchema,
} from './database-sink-config.js';
export { plugin } from './database-sink-plugin.js';
export { type DatabaseDialectName, type DatabaseTarget, parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
export { type DatabaseSinkErrorCode, databaseSinkError, databaseSinkErrorCatalogue } from './errors.js';
/** The records table's columns in insert order (for tools that write the same rows). */
export { RECORD_COLUMNS } from './record-rows.js';
export { WorkerSqliteDialect, type WorkerSqliteOptions } from './worker-sqlite-dialect.js';
