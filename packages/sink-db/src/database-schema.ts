import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DatabaseDialectName } from './database-url.js';
import { databaseSinkError } from './errors.js';

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

function quote(dialect: DatabaseDialectName, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** `schema.table` quoted for the dialect. */
export function qualifiedName(dialect: DatabaseDialectName, names: TableNames, table: string): string {
  return names.schema ? `${quote(dialect, names.schema)}.${quote(dialect, table)}` : quote(dialect, table);
}

/**
 * The DDL of schema version 1 for one dialect (documented in the README). Every statement
 * is idempotent (`IF NOT EXISTS`), so a half-applied migration can simply run again.
 */
export function schemaStatements(dialect: DatabaseDialectName, names: TableNames): string[] {
  const records = qualifiedName(dialect, names, names.records);
  const checkpoints = qualifiedName(dialect, names, names.checkpoints);
  const index = (suffix: string) => quote(dialect, `${names.records}_${suffix}`);
  const key = `VARCHAR(${COLUMN_LIMITS.key})`;
  const label = `VARCHAR(${COLUMN_LIMITS.label})`;
  if (dialect === 'mysql') {
    // utf8mb4 for emoji; utf8mb4_bin because ids and openids are case-sensitive (a _ci
    // collation would make `oAbc` and `oabc` collide in the unique key and drop a record).
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
    return [
      `CREATE TABLE IF NOT EXISTS ${records} (
  provider ${key} NOT NULL,
  account ${key} NOT NULL,
  id ${key} NOT NULL,
  customer ${key} NOT NULL,
  agent ${key} NULL,
  direction ${label} NOT NULL,
  kind ${label} NOT NULL,
  event ${label} NULL,
  text MEDIUMTEXT NULL,
  attachments JSON NULL,
  at DATETIME(3) NOT NULL,
  raw JSON NOT NULL,
  inserted_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (provider, account, id),
  KEY ${index('account_at_idx')} (account, at),
  KEY ${index('customer_at_idx')} (customer, at),
  KEY ${index('at_idx')} (at)
) ${table}`,
      `CREATE TABLE IF NOT EXISTS ${checkpoints} (
  checkpoint_key ${key} NOT NULL PRIMARY KEY,
  value MEDIUMTEXT NOT NULL,
  updated_at DATETIME(3) NOT NULL
) ${table}`,
    ];
  }
  const postgres = dialect === 'postgres';
  const json = postgres ? 'JSONB' : 'TEXT';
  const time = postgres ? 'TIMESTAMPTZ(3)' : 'TEXT';
  const text = postgres ? key : 'TEXT';
  const shortText = postgres ? label : 'TEXT';
  const now = postgres ? 'now()' : `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const indexTarget = (suffix: string, columns: string) =>
    `CREATE INDEX IF NOT EXISTS ${postgres ? index(suffix) : names.schema ? `${quote(dialect, names.schema)}.${index(suffix)}` : index(suffix)} ON ${postgres ? records : quote(dialect, names.records)} (${columns})`;
  return [
    `CREATE TABLE IF NOT EXISTS ${records} (
  provider ${text} NOT NULL,
  account ${text} NOT NULL,
  id ${text} NOT NULL,
  customer ${text} NOT NULL,
  agent ${text} NULL,
  direction ${shortText} NOT NULL,
  kind ${shortText} NOT NULL,
  event ${shortText} NULL,
  text TEXT NULL,
  attachments ${json} NULL,
  at ${time} NOT NULL,
  raw ${json} NOT NULL,
  inserted_at ${time} NOT NULL DEFAULT ${now},
  PRIMARY KEY (provider, account, id)
)`,
    indexTarget('account_at_idx', 'account, at'),
    indexTarget('customer_at_idx', 'customer, at'),
    indexTarget('at_idx', 'at'),
    `CREATE TABLE IF NOT EXISTS ${checkpoints} (
  checkpoint_key ${text} NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at ${time} NOT NULL
)`,
  ];
}

/** One schema version: its name and statements. */
interface Migration {
  version: number;
  name: string;
  statements(dialect: DatabaseDialectName, names: TableNames): string[];
}

/** Every schema version, oldest first. Append, never edit: deployed databases record what ran. */
const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'records-and-checkpoints', statements: schemaStatements },
];

/** The newest schema version this package knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

function migrationsTableStatement(dialect: DatabaseDialectName, names: TableNames): string {
  const table = qualifiedName(dialect, names, names.migrations);
  const time = dialect === 'postgres' ? 'TIMESTAMPTZ(3)' : dialect === 'mysql' ? 'DATETIME(3)' : 'TEXT';
  const suffix = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  applied_at ${time} NOT NULL
)${suffix}`;
}

/** Applies the pending migrations with `db` (already inside the dialect's migration lock). */
async function applyPending(
  db: Kysely<unknown> | Transaction<unknown>,
  dialect: DatabaseDialectName,
  names: TableNames,
  now: string,
): Promise<number> {
  await sql.raw(migrationsTableStatement(dialect, names)).execute(db);
  const table = qualifiedName(dialect, names, names.migrations);
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
  let applied = 0;
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements(dialect, names)) await sql.raw(statement).execute(db);
    await sql`insert into ${sql.raw(table)} (version, name, applied_at) values (${migration.version}, ${migration.name}, ${now})`.execute(
      db,
    );
    applied++;
  }
  return applied;
}

/** The MySQL GET_LOCK name for one table: server-wide, so it includes the database; at most 64 characters. */
function mysqlLockName(database: string, names: TableNames): string {
  return `kefu_sink_db_${createHash('sha1').update(`${database}.${names.records}`).digest('hex')}`;
}

/**
 * Brings the tables to the latest schema version, once per process and table, safely
 * against other processes doing the same: PostgreSQL runs everything in one transaction
 * under an advisory lock, MySQL (whose DDL commits implicitly) holds GET_LOCK on one
 * connection, SQLite runs in one `BEGIN IMMEDIATE` transaction. Returns how many versions ran.
 */
export async function migrateSchema(
  db: Kysely<unknown>,
  dialect: DatabaseDialectName,
  names: TableNames,
  now: string,
): Promise<number> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      const lockKey = `kefu-sink-db:${names.schema ?? ''}.${names.records}`;
      await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(trx);
      return applyPending(trx, dialect, names, now);
    });
  }
  if (dialect === 'mysql') {
    return db.connection().execute(async (connection) => {
      const database = await sql<{ name: string | null }>`select database() as name`.execute(connection);
      const lock = mysqlLockName(names.schema ?? database.rows[0]?.name ?? '', names);
      const acquired = await sql<{
        acquired: number | string | null;
      }>`select get_lock(${lock}, 60) as acquired`.execute(connection);
      if (Number(acquired.rows[0]?.acquired) !== 1) {
        throw databaseSinkError('SINK_DB_BUSY', `another process held the migration lock of ${names.records} for 60 s`);
      }
      try {
        return await applyPending(connection, dialect, names, now);
      } finally {
        await sql`select release_lock(${lock})`.execute(connection);
      }
    });
  }
  return db.transaction().execute((trx) => applyPending(trx, dialect, names, now));
}
