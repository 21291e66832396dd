import type { DatabaseDialectName } from './database-url.js';
import { sinkDialect } from './dialects/index.js';
import type { TableNames } from './table-names.js';

export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { COLUMN_LIMITS, qualifiedName, type TableNames } from './table-names.js';

/**
 * The DDL that creates the sink's tables at the latest schema version in an empty
 * database (documented in the README), statement by statement. Every statement is
 * idempotent (`IF NOT EXISTS`), so a half-applied migration can simply run again.
 */
export function schemaStatements(dialect: DatabaseDialectName, names: TableNames): string[] {
  return sinkDialect(dialect).schemaStatements(names);
}
