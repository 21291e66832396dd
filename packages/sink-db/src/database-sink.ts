import {
  type Checkpoint,
  CheckpointSchema,
  type CheckpointStore,
  type DeliveryGuarantee,
  isEmptyCheckpoint,
  isKefuError,
  type KefuError,
  type KefuRecord,
  KefuRecordSchema,
  parseConfig,
  type RecordBatch,
  type RecordSink,
  type ResettableCheckpointStore,
  retryWithBackoff,
} from '@kefu/core';
import { CompiledQuery, type Dialect, Kysely, MysqlDialect, PostgresDialect, sql, type Transaction } from 'kysely';
import { createPool } from 'mysql2';
import { Pool } from 'pg';
import { z } from 'zod';
import { COLUMN_LIMITS, migrateSchema, qualifiedName, schemaStatements, type TableNames } from './database-schema.js';
import {
  type DatabaseSinkConfig,
  type DatabaseSinkConfigInput,
  DatabaseSinkConfigSchema,
} from './database-sink-config.js';
import { type DatabaseDialectName, type DatabaseTarget, parseDatabaseUrl } from './database-url.js';
import { toDatabaseSinkError } from './driver-errors.js';
import { databaseSinkError } from './errors.js';
import {
  encodeTimestamp,
  fromStoredRow,
  RECORD_COLUMNS,
  RECORD_ROW_PARAMETERS,
  type RecordRow,
  toRecordRow,
} from './record-rows.js';
import { SqliteWriteLock } from './sqlite-write-lock.js';
import { WorkerSqliteDialect } from './worker-sqlite-dialect.js';

/** The tables as Kysely sees them; the real names come from the config (see `#tables`). */
interface SinkTables {
  records: RecordRow & { inserted_at?: string };
  checkpoints: { checkpoint_key: string; value: string; updated_at: string };
}

/** Options of {@link DatabaseSink}: the config plus where it lives in a runtime. */
export interface DatabaseSinkOptions extends DatabaseSinkConfigInput {
  /** Instance id (default `database`). */
  id?: string;
  /** Directory relative SQLite paths are resolved against (default: the working directory). */
  baseDir?: string;
}

/** A filter for {@link DatabaseSink.queryRecords} and {@link DatabaseSink.countRecords}. */
export const RecordFilterSchema = z.object({
  provider: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  customer: z.string().min(1).optional(),
  /** Records at or after this time. */
  from: z.coerce.date().optional(),
  /** Records strictly before this time. */
  to: z.coerce.date().optional(),
  /** At most this many records (default 1000, at most 10000). */
  limit: z.number().int().min(1).max(10_000).default(1000),
  /** Keyset paging: only records after this one (pass the last record of the previous page). */
  after: z
    .object({ at: z.iso.datetime({ offset: false }), provider: z.string(), account: z.string(), id: z.string() })
    .optional(),
});
/** A record filter as callers write it. */
export type RecordFilter = z.input<typeof RecordFilterSchema>;

/** Retries of one transaction that lost a lock race; the work is idempotent, so retrying is safe. */
const BUSY_RETRY_POLICY = { maxAttempts: 6, baseDelayMs: 25, maxDelayMs: 1000, jitter: 1 };
/** Bound parameters one statement may carry: PostgreSQL/MySQL allow 65535, SQLite 32766. */
const PARAMETER_LIMIT: Record<DatabaseDialectName, number> = { postgres: 65_535, mysql: 65_535, sqlite: 32_766 };
/** Bytes of text one multi-row INSERT carries, at most: well under MySQL's default 16 MiB packet. */
const STATEMENT_BYTE_BUDGET = 4 * 1024 * 1024;

/**
 * Writes record batches into SQLite (embedded default), PostgreSQL or MySQL/MariaDB and
 * stores checkpoints in the same database: each batch's rows and its checkpoint commit in
 * one transaction, and replayed rows are ignored, so delivery is exactly-once.
 *
 * @example
 * ```ts
 * const sink = new DatabaseSink({ url: './kefu.db' });
 * await sink.write({ stream, checkpointKey: 'job/wechat-mp/wx123', records, checkpoint });
 * const resumeFrom = await sink.load('job/wechat-mp/wx123');
 * await sink.close();
 * ```
 */
export class DatabaseSink implements RecordSink, CheckpointStore, ResettableCheckpointStore {
  /** Instance id. */
  readonly id: string;
  /** Rows and checkpoint commit together and replays insert nothing. */
  readonly guarantee: DeliveryGuarantee = 'exactly-once';
  /** Which database this sink writes to. */
  readonly dialect: DatabaseDialectName;
  /** The target for messages: file path or URL with the password redacted. */
  readonly target: string;
  /** The validated configuration. */
  readonly config: DatabaseSinkConfig;

  readonly #names: TableNames;
  readonly #db: Kysely<SinkTables>;
  /** SQLite only: runs a batch's statements as one transaction on the worker thread. */
  readonly #sqliteDialect: WorkerSqliteDialect | undefined;
  readonly #sqliteLock: SqliteWriteLock | undefined;
  readonly #rowsPerInsert: number;
  readonly #insertSqlCache = new Map<number, string>();
  #ready: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  /** Validates the options; connects lazily, on first use. */
  constructor(options: DatabaseSinkOptions) {
    const { id, baseDir, ...input } = options;
    this.config = parseConfig(DatabaseSinkConfigSchema, input, 'database sink config', (message, details) =>
      databaseSinkError('SINK_DB_CONFIG_INVALID', message, { details }),
    );
    this.id = id ?? 'database';
    const target = parseDatabaseUrl(this.config.url, baseDir);
    this.dialect = target.dialect;
    this.target = target.display;
    if (target.dialect === 'sqlite' && this.config.schema !== undefined) {
      throw databaseSinkError(
        'SINK_DB_CONFIG_INVALID',
        '`schema` is not supported with SQLite: the file is the schema',
      );
    }
    this.#names = {
      schema: this.config.schema,
      records: this.config.table,
      checkpoints: this.config.checkpointTable,
      migrations: `${this.config.table}_migrations`,
    };
    if (this.#names.records === this.#names.checkpoints) {
      throw databaseSinkError('SINK_DB_CONFIG_INVALID', '`table` and `checkpointTable` must differ');
    }
    this.#sqliteLock = target.dialect === 'sqlite' ? SqliteWriteLock.forFile(target.path) : undefined;
    this.#rowsPerInsert = Math.max(
      1,
      Math.min(this.config.maxRowsPerInsert, Math.floor(PARAMETER_LIMIT[this.dialect] / RECORD_ROW_PARAMETERS)),
    );
    const dialect = this.#createDialect(target);
    this.#sqliteDialect = dialect instanceof WorkerSqliteDialect ? dialect : undefined;
    this.#db = new Kysely<SinkTables>({ dialect });
  }

  /** The DDL this sink runs for its tables (schema version 1), statement by statement. */
  schemaStatements(): string[] {
    return schemaStatements(this.dialect, this.#names);
  }

  /** Creates or upgrades the tables now (otherwise done on first use); safe to call from many processes. */
  async migrate(): Promise<void> {
    this.#assertOpen();
    this.#ready ??= this.#runMigrations().catch((error: unknown) => {
      // Let the next call try again (e.g. the server was down).
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Inserts the batch's records (ignoring ones already stored) and upserts its checkpoint in
   * one transaction. Resolves once committed; on failure nothing of the batch is kept.
   */
  async write(batch: RecordBatch): Promise<void> {
    this.#assertOpen();
    const rows = this.#rowsOf(batch);
    const checkpointValue = this.#checkpointValue(batch.checkpointKey, batch.checkpoint, batch);
    await this.migrate();
    const operation = `writing ${rows.length} records to ${this.#names.records}`;
    const inserts = Array.from(this.#chunks(rows), (chunk) => this.#insertQuery(chunk));
    const sqlite = this.#sqliteDialect;
    if (sqlite && !isEmptyCheckpoint(batch.checkpoint)) {
      // The whole transaction in one message to the SQLite thread.
      const upsert = this.#upsertQuery(this.#db, batch.checkpointKey, checkpointValue).compile();
      await this.#retryBusy(() =>
        this.#exclusive(() => this.#run(operation, () => sqlite.runTransaction([...inserts, upsert]))),
      );
      return;
    }
    await this.#transact(operation, async (trx) => {
      // One statement at a time: the drivers queue (they do not pipeline) queries on a
      // connection, and pg deprecates queueing (pg 9 rejects it). Any failure rolls the
      // whole transaction back.
      for (const insert of inserts) await trx.executeQuery(insert);
      await this.#upsertCheckpoint(trx, batch.checkpointKey, checkpointValue);
    });
  }

  /**
   * Connects and runs a trivial query (`SELECT 1`), creating and writing nothing but a new
   * SQLite file: `kefu doctor` then tells a missing database (SINK_DB_NOT_FOUND), refused
   * credentials (SINK_DB_AUTH_FAILED) and an unreachable server (SINK_DB_UNAVAILABLE) apart.
   */
  async check(): Promise<void> {
    this.#assertOpen();
    await this.#run(`connecting to ${this.target}`, () => sql`select 1 as ok`.execute(this.#db));
  }

  /** The checkpoint stored under `key`, or undefined. */
  async load(key: string): Promise<Checkpoint | undefined> {
    this.#assertOpen();
    this.#checkKey(key);
    await this.migrate();
    const row = await this.#run(`reading checkpoint ${key} from ${this.#names.checkpoints}`, () =>
      this.#scoped(this.#db)
        .selectFrom(this.#tables.checkpoints)
        .select('value')
        .where('checkpoint_key', '=', key)
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : this.#parseStoredCheckpoint(key, row.value);
  }

  /** Every stored checkpoint, by key (for `kefu checkpoints`). */
  async entries(): Promise<Array<[string, Checkpoint]>> {
    this.#assertOpen();
    await this.migrate();
    const rows = await this.#run(`listing checkpoints in ${this.#names.checkpoints}`, () =>
      this.#scoped(this.#db)
        .selectFrom(this.#tables.checkpoints)
        .select(['checkpoint_key', 'value'])
        .orderBy('checkpoint_key')
        .execute(),
    );
    return rows.map((row) => [row.checkpoint_key, this.#parseStoredCheckpoint(row.checkpoint_key, row.value)]);
  }

  /** Forgets the checkpoint under `key` (the stream restarts from `from`); true when it existed. Records stay. */
  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    this.#checkKey(key);
    await this.migrate();
    const result = await this.#transact(`deleting checkpoint ${key} from ${this.#names.checkpoints}`, (trx) =>
      this.#scoped(trx).deleteFrom(this.#tables.checkpoints).where('checkpoint_key', '=', key).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  /** Durably replaces the checkpoint under `key` (one atomic upsert). */
  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    this.#assertOpen();
    const value = this.#checkpointValue(key, checkpoint, undefined);
    await this.migrate();
    await this.#transact(`saving checkpoint ${key} to ${this.#names.checkpoints}`, (trx) =>
      this.#upsertCheckpoint(trx, key, value),
    );
  }

  /** Reads records back, ordered by time then provider, account and id; page with `after`. */
  async queryRecords(filter: RecordFilter = {}): Promise<KefuRecord[]> {
    this.#assertOpen();
    const parsed = this.#parseFilter(filter);
    await this.migrate();
    const rows = await this.#run(`querying ${this.#names.records}`, () => {
      let query = this.#filtered(parsed)
        .select([...RECORD_COLUMNS])
        .orderBy('at')
        .orderBy('provider')
        .orderBy('account')
        .orderBy('id')
        .limit(parsed.limit);
      const after = parsed.after;
      if (after) {
        query = query.where((eb) =>
          eb(
            eb.refTuple('at', 'provider', 'account', 'id'),
            '>',
            eb.tuple(encodeTimestamp(after.at, this.dialect), after.provider, after.account, after.id),
          ),
        );
      }
      return query.execute();
    });
    return rows.map((row) => fromStoredRow(row, this.dialect));
  }

  /** How many records match the filter (`limit` and `after` are ignored). */
  async countRecords(filter: Omit<RecordFilter, 'limit' | 'after'> = {}): Promise<number> {
    this.#assertOpen();
    const parsed = this.#parseFilter(filter);
    await this.migrate();
    const row = await this.#run(`counting ${this.#names.records}`, () =>
      this.#filtered(parsed)
        .select((eb) => eb.fn.countAll().as('count'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.count);
  }

  /** Releases the connections; idempotent. Later calls fail with SINK_DB_CLOSED. */
  async close(): Promise<void> {
    this.#closed ??= (async () => {
      // Let a migration in flight finish so its lock and connection are released.
      await this.#ready?.catch(() => undefined);
      await this.#db.destroy();
    })();
    return this.#closed;
  }

  // The configured table names, typed as Kysely's fixed keys.
  get #tables(): { records: 'records'; checkpoints: 'checkpoints' } {
    return {
      records: this.#names.records as 'records',
      checkpoints: this.#names.checkpoints as 'checkpoints',
    };
  }

  #scoped<D extends Kysely<SinkTables> | Transaction<SinkTables>>(db: D): D {
    return (this.#names.schema ? db.withSchema(this.#names.schema) : db) as D;
  }

  #createDialect(target: DatabaseTarget): Dialect {
    if (target.dialect === 'sqlite') {
      const { path } = target;
      const busyTimeoutMs = this.config.busyTimeoutMs;
      // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every
      // commit, so a batch acknowledged by write() survives a crash or power loss
      // (NORMAL would only survive a process crash). The fsyncs happen on the dialect's
      // worker thread, not on the event loop.
      return new WorkerSqliteDialect({
        path,
        setup: [`PRAGMA busy_timeout = ${busyTimeoutMs}`, 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = FULL'],
      });
    }
    if (target.dialect === 'postgres') {
      const pool = new Pool({
        connectionString: target.url,
        max: this.config.poolSize,
        connectionTimeoutMillis: 10_000,
      });
      handleLostConnections(pool);
      return new PostgresDialect({ pool });
    }
    const pool = createPool({
      uri: target.url,
      connectionLimit: this.config.poolSize,
      charset: 'UTF8MB4_UNICODE_CI',
      dateStrings: true,
      jsonStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: 10_000,
    });
    return new MysqlDialect({
      pool,
      // UTC timestamps, and strict mode so MySQL rejects instead of silently truncating.
      onCreateConnection: async (connection) => {
        await connection.executeQuery(
          CompiledQuery.raw(`SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'`),
        );
      },
    });
  }

  async #runMigrations(): Promise<void> {
    const now = encodeTimestamp(new Date(), this.dialect);
    await this.#exclusive(() =>
      this.#run(`migrating ${this.#names.records}`, () =>
        retryWithBackoff(
          () =>
            migrateSchema(this.#db as unknown as Kysely<unknown>, this.dialect, this.#names, now).catch(
              (error: unknown) => {
                throw this.#mapError(error, `migrating ${this.#names.records}`);
              },
            ),
          { policy: BUSY_RETRY_POLICY, isRetryable: isBusy },
        ),
      ),
    );
  }

  #rowsOf(batch: RecordBatch): RecordRow[] {
    if (
      typeof batch !== 'object' ||
      batch === null ||
      !Array.isArray(batch.records) ||
      typeof batch.stream?.provider !== 'string' ||
      typeof batch.stream.account !== 'string'
    ) {
      throw databaseSinkError(
        'SINK_DB_BATCH_INVALID',
        'a batch needs `stream: { provider, account }`, `checkpointKey`, `records: KefuRecord[]` and `checkpoint`',
      );
    }
    const { provider, account } = batch.stream;
    const rows: RecordRow[] = [];
    for (const record of batch.records) {
      const valid = KefuRecordSchema.safeParse(record);
      if (!valid.success) {
        const issue = valid.error.issues[0];
        throw databaseSinkError(
          'SINK_DB_BATCH_INVALID',
          `batch for ${provider}/${account} holds an invalid record ${String((record as { id?: unknown }).id).slice(0, 64)}: ${issue?.path.join('.')}: ${issue?.message}`,
        );
      }
      if (record.provider !== provider || record.account !== account) {
        throw databaseSinkError(
          'SINK_DB_BATCH_INVALID',
          `batch for ${provider}/${account} holds record ${record.id} of ${record.provider}/${record.account}`,
        );
      }
      rows.push(toRecordRow(record, this.dialect));
    }
    // One key order for every writer makes lock-order deadlocks between concurrent batches rarer.
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return rows;
  }

  #checkpointValue(key: string, checkpoint: Checkpoint, batch: RecordBatch | undefined): string {
    this.#checkKey(key);
    const parsed = CheckpointSchema.safeParse(checkpoint);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw databaseSinkError(
        batch ? 'SINK_DB_BATCH_INVALID' : 'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint for ${key} is invalid: ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    if (batch && (parsed.data.provider !== batch.stream.provider || parsed.data.account !== batch.stream.account)) {
      throw databaseSinkError(
        'SINK_DB_BATCH_INVALID',
        `batch for ${batch.stream.provider}/${batch.stream.account} carries a checkpoint of ${parsed.data.provider}/${parsed.data.account}`,
      );
    }
    return JSON.stringify(parsed.data);
  }

  #parseStoredCheckpoint(key: string, value: unknown): Checkpoint {
    let parsed: unknown;
    try {
      parsed = JSON.parse(z.string().parse(value));
    } catch (cause) {
      throw databaseSinkError(
        'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint ${key} in ${this.#names.checkpoints} is not JSON`,
        {
          cause,
        },
      );
    }
    const checkpoint = CheckpointSchema.safeParse(parsed);
    if (!checkpoint.success) {
      throw databaseSinkError(
        'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint ${key} in ${this.#names.checkpoints} does not match the checkpoint schema: ${checkpoint.error.issues[0]?.message}`,
      );
    }
    return checkpoint.data;
  }

  #checkKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0 || [...key].length > COLUMN_LIMITS.key) {
      throw databaseSinkError(
        'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint key must be 1 to ${COLUMN_LIMITS.key} characters, got ${typeof key === 'string' ? key.length : typeof key}`,
      );
    }
  }

  /** Splits rows by parameter count and by bytes, so no statement exceeds a driver or server limit. */
  *#chunks(rows: readonly RecordRow[]): Generator<RecordRow[]> {
    let chunk: RecordRow[] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = row.raw.length + (row.text?.length ?? 0) + (row.attachments?.length ?? 0) + 256;
      if (chunk.length > 0 && (chunk.length >= this.#rowsPerInsert || bytes + size > STATEMENT_BYTE_BUDGET)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(row);
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }

  #insertQuery(rows: RecordRow[]): CompiledQuery {
    const parameters: unknown[] = [];
    for (const row of rows) {
      for (const column of RECORD_COLUMNS) parameters.push(row[column]);
    }
    return CompiledQuery.raw(this.#insertSql(rows.length), parameters);
  }

  /**
   * The multi-row INSERT for `count` rows, built once per size. The hot path bypasses the
   * query builder: building a 500-row AST per batch cost more than the database's own work
   * on SQLite (see bench/). Identifiers are validated config names.
   */
  #insertSql(count: number): string {
    let text = this.#insertSqlCache.get(count);
    if (text !== undefined) return text;
    const table = qualifiedName(this.dialect, this.#names, this.#names.records);
    let parameter = 0;
    const placeholder = () => (this.dialect === 'postgres' ? `$${++parameter}` : '?');
    const rowsSql = Array.from({ length: count }, () => `(${RECORD_COLUMNS.map(placeholder).join(', ')})`).join(', ');
    // MySQL: ON DUPLICATE KEY UPDATE id = id, not INSERT IGNORE, which would also turn
    // real errors (bad JSON, too-long values) into warnings and silently drop or truncate rows.
    const onConflict =
      this.dialect === 'mysql' ? 'on duplicate key update id = id' : 'on conflict (provider, account, id) do nothing';
    text = `insert into ${table} (${RECORD_COLUMNS.join(', ')}) values ${rowsSql} ${onConflict}`;
    if (this.#insertSqlCache.size >= 16) this.#insertSqlCache.clear();
    this.#insertSqlCache.set(count, text);
    return text;
  }

  /** The upsert of a checkpoint row (insert, or replace the stored value). */
  #upsertQuery(db: Kysely<SinkTables> | Transaction<SinkTables>, key: string, value: string) {
    const row = { checkpoint_key: key, value, updated_at: encodeTimestamp(new Date(), this.dialect) };
    const insert = this.#scoped(db).insertInto(this.#tables.checkpoints).values(row);
    return this.dialect === 'mysql'
      ? insert.onDuplicateKeyUpdate({ value: sql`values(value)`, updated_at: sql`values(updated_at)` })
      : insert.onConflict((conflict) =>
          conflict.column('checkpoint_key').doUpdateSet({
            value: (eb) => eb.ref('excluded.value'),
            updated_at: (eb) => eb.ref('excluded.updated_at'),
          }),
        );
  }

  async #upsertCheckpoint(trx: Transaction<SinkTables>, key: string, value: string): Promise<void> {
    if (isEmptyCheckpoint(JSON.parse(value) as Checkpoint)) {
      // Never replace stored progress with "the start of the stream" (the most reported
      // state bug of record movers); delete the key to restart a stream on purpose.
      const stored = await this.#scoped(trx)
        .selectFrom(this.#tables.checkpoints)
        .select('value')
        .where('checkpoint_key', '=', key)
        .executeTakeFirst();
      if (stored !== undefined && !isEmptyCheckpoint(this.#parseStoredCheckpoint(key, stored.value))) {
        throw databaseSinkError(
          'SINK_DB_CHECKPOINT_INVALID',
          `refusing to overwrite the stored checkpoint of ${key} with an empty one; delete the key to restart that stream from \`from\``,
        );
      }
      // An empty one over an empty one: its range (`requested`) may have changed.
    }
    await this.#upsertQuery(trx, key, value).execute();
  }

  #parseFilter(filter: RecordFilter): z.output<typeof RecordFilterSchema> {
    const parsed = RecordFilterSchema.safeParse(filter);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw databaseSinkError('SINK_DB_QUERY_INVALID', `record filter: \`${issue?.path.join('.')}\` ${issue?.message}`);
    }
    return parsed.data;
  }

  #filtered(filter: z.output<typeof RecordFilterSchema>) {
    let query = this.#scoped(this.#db).selectFrom(this.#tables.records);
    if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
    if (filter.account !== undefined) query = query.where('account', '=', filter.account);
    if (filter.customer !== undefined) query = query.where('customer', '=', filter.customer);
    if (filter.from !== undefined) query = query.where('at', '>=', encodeTimestamp(filter.from, this.dialect));
    if (filter.to !== undefined) query = query.where('at', '<', encodeTimestamp(filter.to, this.dialect));
    return query;
  }

  /** Runs `work` in one transaction, retrying lost lock races; maps driver errors. */
  async #transact<T>(operation: string, work: (trx: Transaction<SinkTables>) => Promise<T>): Promise<T> {
    return this.#retryBusy(() =>
      this.#exclusive(() => this.#run(operation, () => this.#db.transaction().execute(work))),
    );
  }

  /** Retries a transaction that lost a lock race (its work is idempotent). */
  #retryBusy<T>(transaction: () => Promise<T>): Promise<T> {
    return retryWithBackoff(transaction, { policy: BUSY_RETRY_POLICY, isRetryable: isBusy });
  }

  /** Runs a single statement, mapping driver errors. */
  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#mapError(error, operation);
    }
  }

  /**
   * SQLite: serializes write transactions of all sinks on the same file in this process,
   * so they queue here instead of spinning on SQLite's busy timeout (each connection has
   * its own thread); other processes are handled by busy_timeout.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#sqliteLock ? this.#sqliteLock.run(work) : work();
  }

  #mapError(error: unknown, operation: string): KefuError {
    return toDatabaseSinkError(error, { dialect: this.dialect, operation, target: this.target });
  }

  #assertOpen(): void {
    if (this.#closed)
      throw databaseSinkError('SINK_DB_CLOSED', `the database sink ${this.id} (${this.target}) is closed`);
  }
}

/**
 * A server ending a session (restart, failover, `pg_terminate_backend`) makes pg emit
 * 'error' on the client: on the pool for idle clients, and on the client itself while it
 * is lent out — where pg attaches no listener, so the process would crash with an
 * unhandled 'error' event. With listeners on both, the query in flight (or the next one
 * on that client) fails instead, as SINK_DB_UNAVAILABLE, and pg drops the broken client:
 * the retry gets a new connection.
 */
function handleLostConnections(pool: Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
}

function isBusy(error: unknown): boolean {
  return isKefuError(error) && error.code === 'SINK_DB_BUSY';
}
