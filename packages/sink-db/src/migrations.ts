import { type Kysely, sql } from 'kysely';
import type { MigrationExecutor, SinkDialect } from './dialects/index.js';
import { sqliteDialect } from './dialects/sqlite/sqlite-dialect.js';
import { databaseSinkError } from './errors.js';
import { qualifiedName, type TableNames } from './table-names.js';

/** The newest schema version this package knows (the same for every dialect). */
export const LATEST_SCHEMA_VERSION = sqliteDialect.migrations.at(-1)?.version ?? 0;

/** Applies the pending migrations with `db` (already inside the dialect's migration lock). */
async function applyPending(
  db: MigrationExecutor,
  dialect: SinkDialect,
  names: TableNames,
  now: string,
): Promise<number> {
  await sql.raw(dialect.migrationsTableStatement(names)).execute(db);
  const table = qualifiedName(dialect.name, names, names.migrations);
  const result = await sql<{
    version: number | string | null;
  }>`select max(version) as version from ${sql.raw(table)}`.execute(db);
  const current = Number(result.rows[0]?.version ?? 0);
  if (current > LATEST_SCHEMA_VERSION) {
    throw databaseSinkError(
      'SINK_DB_SCHEMA',
      `table ${names.records} is at schema version ${current}, newer than this @kefu/sink-db knows (${LATEST_SCHEMA_VERSION})`,
    );
  }
  const record = (version: number, name: string) =>
    sql`insert into ${sql.raw(table)} (version, name, applied_at) values (${version}, ${name}, ${now})`.execute(db);
  if (current === 0) {
    // An empty database gets the latest layout at once, not every step towards it.
    const latest = dialect.migrations.at(-1);
    if (!latest) return 0;
    for (const statement of dialect.schemaStatements(names)) await sql.raw(statement).execute(db);
    await record(latest.version, latest.name);
    return 1;
  }
  let applied = 0;
  for (const migration of dialect.migrations) {
    if (migration.version <= current) continue;
    if (!(await migration.alreadyApplied?.(db, names)))
      for (const statement of migration.statements(names)) await sql.raw(statement).execute(db);
    await record(migration.version, migration.name);
    applied++;
  }
  return applied;
}

/**
 * Brings the tables to the latest schema version, safely against other processes doing
 * the same (each dialect's migration lock: PostgreSQL an advisory lock in one
 * transaction, MySQL GET_LOCK on one connection, SQLite one write transaction). Returns
 * how many versions ran.
 */
export function migrateSchema(
  db: Kysely<unknown>,
  dialect: SinkDialect,
  names: TableNames,
  now: string,
): Promise<number> {
  return dialect.withMigrationLock(db, names, (executor) => applyPending(executor, dialect, names, now));
}
