import type { DatabaseSync, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

/** Prepared statements kept per connection (oldest evicted first). */
const STATEMENT_CACHE_SIZE = 64;

/** What node:sqlite statements accept as bound values. */
type SqliteParameters = Parameters<StatementSync['all']>;

/**
 * Kysely's SqliteDialect expects a better-sqlite3-like `database`; this adapts Node's
 * built-in `node:sqlite` (no native build needed) to that shape.
 */
export function adaptNodeSqlite(database: DatabaseSync): SqliteDatabase {
  // Kysely prepares every query anew; a multi-row INSERT of 500 rows is worth preparing once.
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      if (database.isOpen) database.close();
    },
    prepare: (sql: string): SqliteStatement => {
      const cached = cache.get(sql);
      if (cached) return cached;
      const statement: StatementSync = database.prepare(sql);
      const adapted: SqliteStatement = {
        // A statement returns rows exactly when it has result columns (SELECT, RETURNING, PRAGMA).
        reader: statement.columns().length > 0,
        all: (parameters) => statement.all(...(parameters as SqliteParameters)),
        run: (parameters) => statement.run(...(parameters as SqliteParameters)),
        iterate: (parameters) => statement.iterate(...(parameters as SqliteParameters)),
      };
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, adapted);
      return adapted;
    },
  };
}

/** Kysely's SQLite driver, but transactions start with `BEGIN IMMEDIATE`. */
class ImmediateSqliteDriver extends SqliteDriver {
  // A deferred BEGIN that later writes can fail with SQLITE_BUSY without waiting for the
  // busy timeout; taking the write lock up front makes concurrent writers queue instead.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** A Kysely dialect over `node:sqlite`, with write transactions that take the lock up front. */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #database: () => Promise<SqliteDatabase>;

  /** `open` is called once, on first use. */
  constructor(open: () => Promise<DatabaseSync>) {
    const database = async () => adaptNodeSqlite(await open());
    super({ database });
    this.#database = database;
  }

  /** The driver with `BEGIN IMMEDIATE` transactions. */
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }
}
