import { createHash } from 'node:crypto';
import { CompiledQuery, MysqlDialect, sql } from 'kysely';
import { databaseSinkError } from '../../errors.js';
import { qualifiedName, type TableNames } from '../../table-names.js';
import type { SinkDialect } from '../sink-dialect.js';
import { insertHead, memoByTable, ValuesInsert } from '../values-insert.js';
import { mysqlWaitTimeoutSeconds, openMysqlPool } from './mysql-pool.js';
import { MYSQL_MIGRATIONS, mysqlSchemaStatements } from './mysql-schema.js';

// ON DUPLICATE KEY UPDATE id = id, not INSERT IGNORE, which would also turn real errors
// (bad JSON, too-long values) into warnings and silently drop or truncate rows.
const inserts = memoByTable((table) => new ValuesInsert(insertHead(table), 'on duplicate key update id = id', false));

/** MySQL / MariaDB through a `mysql2` pool. */
export const mysqlDialect: SinkDialect = {
  name: 'mysql',
  parameterLimit: 65_535,

  createKyselyDialect(target, config) {
    if (target.dialect !== 'mysql') throw new TypeError(`not a MySQL target: ${target.display}`);
    return new MysqlDialect({
      pool: openMysqlPool(target.url, config),
      // UTC timestamps, strict mode so MySQL rejects instead of silently truncating, and a
      // bounded idle session: a client hung mid-transaction gives its row locks back.
      onCreateConnection: async (connection) => {
        await connection.executeQuery(
          CompiledQuery.raw(
            `SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', wait_timeout = ${mysqlWaitTimeoutSeconds(config.statementTimeoutMs)}`,
          ),
        );
      },
    });
  },

  schemaStatements: mysqlSchemaStatements,
  migrations: MYSQL_MIGRATIONS,

  migrationsTableStatement(names: TableNames) {
    return `CREATE TABLE IF NOT EXISTS ${qualifiedName('mysql', names, names.migrations)} (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  applied_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
  },

  // MySQL's DDL commits implicitly, so no transaction: GET_LOCK held on one connection.
  withMigrationLock(db, names, work) {
    return db.connection().execute(async (connection) => {
      const database = await sql<{ name: string | null }>`select database() as name`.execute(connection);
      const lock = lockName(names.schema ?? database.rows[0]?.name ?? '', names);
      const acquired = await sql<{
        acquired: number | string | null;
      }>`select get_lock(${lock}, 60) as acquired`.execute(connection);
      if (Number(acquired.rows[0]?.acquired) !== 1) {
        throw databaseSinkError('SINK_DB_BUSY', `another process held the migration lock of ${names.records} for 60 s`);
      }
      try {
        return await work(connection);
      } finally {
        await sql`select release_lock(${lock})`.execute(connection);
      }
    });
  },

  insertRecords(names, rows) {
    return inserts(qualifiedName('mysql', names, names.records)).query(rows);
  },

  upsertCheckpoint(names, key, value, updatedAt) {
    return CompiledQuery.raw(
      `insert into ${qualifiedName('mysql', names, names.checkpoints)} (checkpoint_key, value, updated_at) values (?, ?, ?) on duplicate key update value = values(value), updated_at = values(updated_at)`,
      [key, value, updatedAt],
    );
  },
};

/** The MySQL GET_LOCK name for one table: server-wide, so it includes the database; at most 64 characters. */
function lockName(database: string, names: TableNames): string {
  return `kefu_sink_db_${createHash('sha1').update(`${database}.${names.records}`).digest('hex')}`;
}
