import { CompiledQuery, PostgresDialect, sql } from 'kysely';
import type { Pool } from 'pg';
import { RECORD_COLUMNS } from '../../record-rows.js';
import { qualifiedName, type TableNames } from '../../table-names.js';
import type { SinkDialect } from '../sink-dialect.js';
import { memoByTable } from '../values-insert.js';
import { openPostgresPool } from './postgres-pool.js';
import { POSTGRES_MIGRATIONS, postgresSchemaStatements } from './postgres-schema.js';

/** The element type each column's array parameter is cast to (the columns take them by assignment). */
const UNNEST_TYPES: Record<(typeof RECORD_COLUMNS)[number], string> = {
  provider: 'text',
  account: 'text',
  id: 'text',
  customer: 'text',
  agent: 'text',
  direction: 'text',
  kind: 'text',
  event: 'text',
  text: 'text',
  attachments: 'jsonb',
  at: 'timestamptz',
  raw: 'jsonb',
};

/**
 * One `INSERT … SELECT * FROM unnest($1::text[], …)` per chunk: twelve array parameters
 * whatever the row count, one statement text for every size (the server plans it once),
 * and cheaper to bind and parse than a VALUES list of 12 × n parameters (see bench/).
 */
const unnestInsert = memoByTable((table) => {
  const arrays = RECORD_COLUMNS.map((column, index) => `$${index + 1}::${UNNEST_TYPES[column]}[]`).join(', ');
  return `insert into ${table} (${RECORD_COLUMNS.join(', ')}) select * from unnest(${arrays}) on conflict (provider, account, at, id) do nothing`;
});

/** Kysely's PostgreSQL dialect, keeping its pool: batches are written with COPY on a client of their own. */
export class PostgresPoolDialect extends PostgresDialect {
  constructor(readonly pool: Pool) {
    super({ pool });
  }
}

/** PostgreSQL through a `pg` pool. */
export const postgresDialect: SinkDialect = {
  name: 'postgres',
  parameterLimit: 65_535,

  createKyselyDialect(target, config) {
    if (target.dialect !== 'postgres') throw new TypeError(`not a PostgreSQL target: ${target.display}`);
    return new PostgresPoolDialect(openPostgresPool(target.url, config));
  },

  schemaStatements: postgresSchemaStatements,
  migrations: POSTGRES_MIGRATIONS,

  migrationsTableStatement(names: TableNames) {
    return `CREATE TABLE IF NOT EXISTS ${qualifiedName('postgres', names, names.migrations)} (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  applied_at TIMESTAMPTZ(3) NOT NULL
)`;
  },

  // Everything in one transaction (PostgreSQL's DDL is transactional) under an advisory lock.
  withMigrationLock(db, names, work) {
    return db.transaction().execute(async (trx) => {
      const lockKey = `kefu-sink-db:${names.schema ?? ''}.${names.records}`;
      await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(trx);
      return work(trx);
    });
  },

  insertRecords(names, rows) {
    const columns = RECORD_COLUMNS.map((column) => rows.map((row) => row[column]));
    return CompiledQuery.raw(unnestInsert(qualifiedName('postgres', names, names.records)), columns);
  },

  upsertCheckpoint(names, key, value, updatedAt) {
    return CompiledQuery.raw(
      `insert into ${qualifiedName('postgres', names, names.checkpoints)} (checkpoint_key, value, updated_at) values ($1, $2, $3) on conflict (checkpoint_key) do update set value = excluded.value, updated_at = excluded.updated_at`,
      [key, value, updatedAt],
    );
  },
};
