import { CompiledQuery } from 'kysely';
import type { DatabaseSinkConfig } from '../../database-sink-config.js';
import type { DatabaseTarget } from '../../database-url.js';
import { qualifiedName, type TableNames } from '../../table-names.js';
import { WorkerSqliteDialect } from '../../worker-sqlite-dialect.js';
import type { SinkDialect } from '../sink-dialect.js';
import { insertHead, memoByTable, ValuesInsert } from '../values-insert.js';
import { SQLITE_MIGRATIONS, sqliteSchemaStatements } from './sqlite-schema.js';

const inserts = memoByTable(
  (table) => new ValuesInsert(insertHead(table), 'on conflict (provider, account, at, id) do nothing', false),
);

/** SQLite (embedded, the default): one connection on a worker thread per sink. */
export const sqliteDialect: SinkDialect = {
  name: 'sqlite',
  parameterLimit: 32_766,

  createKyselyDialect(target: DatabaseTarget, config: DatabaseSinkConfig) {
    if (target.dialect !== 'sqlite') throw new TypeError(`not a SQLite target: ${target.display}`);
    // WAL lets readers run beside the writer; synchronous=FULL (the default) fsyncs the
    // WAL at every commit, so a batch acknowledged by write() survives a crash or power
    // loss (NORMAL only a process crash). With `sqliteThread: 'worker'` the fsyncs happen
    // on the dialect's worker thread, not on the event loop. The page cache holds the right edge of the key and
    // index B-trees plus a batch's dirty pages: with SQLite's 2 MiB default, commits
    // re-read index pages once a table holds about a million rows.
    return new WorkerSqliteDialect({
      path: target.path,
      thread: config.sqliteThread,
      setup: [
        `PRAGMA busy_timeout = ${config.busyTimeoutMs}`,
        'PRAGMA journal_mode = WAL',
        `PRAGMA synchronous = ${config.synchronous.toUpperCase()}`,
        `PRAGMA cache_size = -${config.cacheSizeMiB * 1024}`,
      ],
    });
  },

  schemaStatements: sqliteSchemaStatements,
  migrations: SQLITE_MIGRATIONS,

  migrationsTableStatement(names: TableNames) {
    return `CREATE TABLE IF NOT EXISTS ${qualifiedName('sqlite', names, names.migrations)} (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  applied_at TEXT NOT NULL
)`;
  },

  // One `BEGIN IMMEDIATE`-style write transaction; other processes wait on busy_timeout.
  withMigrationLock(db, _names, work) {
    return db.transaction().execute(work);
  },

  insertRecords(names, rows) {
    return inserts(qualifiedName('sqlite', names, names.records)).query(rows);
  },

  upsertCheckpoint(names, key, value, updatedAt) {
    return CompiledQuery.raw(
      `insert into ${qualifiedName('sqlite', names, names.checkpoints)} (checkpoint_key, value, updated_at) values (?, ?, ?) on conflict (checkpoint_key) do update set value = excluded.value, updated_at = excluded.updated_at`,
      [key, value, updatedAt],
    );
  },
};
