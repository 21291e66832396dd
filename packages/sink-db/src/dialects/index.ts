import type { DatabaseDialectName } from '../database-url.js';
import { mysqlDialect } from './mysql/mysql-dialect.js';
import { postgresDialect } from './postgres/postgres-dialect.js';
import type { SinkDialect } from './sink-dialect.js';
import { sqliteDialect } from './sqlite/sqlite-dialect.js';

const DIALECTS: Record<DatabaseDialectName, SinkDialect> = {
  sqlite: sqliteDialect,
  postgres: postgresDialect,
  mysql: mysqlDialect,
};

/** The sink's dialect implementation for a database kind. */
export function sinkDialect(name: DatabaseDialectName): SinkDialect {
  return DIALECTS[name];
}

export type { DialectMigration, MigrationExecutor, SinkDialect } from './sink-dialect.js';
