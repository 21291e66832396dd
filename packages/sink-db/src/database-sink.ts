import {
  type Checkpoint,
  isEmptyCheckpoint,
  isPlainValidRecord,
  type KefuLogger,
  type KefuRecord,
  KefuRecordSchema,
  parseConfig,
  type RecordBatch,
  type ResettableCheckpointStore,
  type TransactionalSink,
} from '@kefu/core';
import { sql } from 'kysely';
import { CheckpointTable } from './checkpoint-table.js';
import {
  type DatabaseSinkConfig,
  type DatabaseSinkConfigInput,
  DatabaseSinkConfigSchema,
} from './database-sink-config.js';
import { type DatabaseDialectName, parseDatabaseUrl } from './database-url.js';
import { PostgresCopyWriter } from './dialects/postgres/postgres-copy.js';
import { databaseSinkError } from './errors.js';
import { type RecordFilter, RecordQuery } from './record-query.js';
import { RECORD_ROW_PARAMETERS, type RecordRow, toRecordRow } from './record-rows.js';
import { SinkConnection } from './sink-connection.js';

export { type RecordFilter, RecordFilterSchema } from './record-query.js';

/** Options of {@link DatabaseSink}: the config plus where it lives in a runtime. */
export interface DatabaseSinkOptions extends DatabaseSinkConfigInput {
  /** Instance id (default `database`). */
  id?: string;
  /** Directory relative SQLite paths are resolved against (default: the working directory). */
  baseDir?: string;
  /** Where retries across a database outage are reported (warn); default silent. The plugin passes the runtime's. */
  logger?: KefuLogger;
}

/** Bytes of text one multi-row INSERT carries, at most: well under MySQL's default 16 MiB packet. */
const STATEMENT_BYTE_BUDGET = 4 * 1024 * 1024;

/**
 * Writes record batches into SQLite (embedded default), PostgreSQL or MySQL/MariaDB and
 * stores checkpoints in the same database: each batch's rows and its checkpoint commit in
 * one transaction, and replayed rows are ignored, so delivery is exactly-once.
 *
 * The parts live in their own modules: the connection and its rules (`sink-connection.ts`),
 * the checkpoint table (`checkpoint-table.ts`), reading records back (`record-query.ts`),
 * the schema versions (`migrations.ts`) and one file set per database under `dialects/`.
 *
 * @example
 * ```ts
 * const sink = new DatabaseSink({ url: './kefu.db' });
 * await sink.write({ stream, checkpointKey: 'job/wechat-mp/wx123', records, checkpoint });
 * const resumeFrom = await sink.load('job/wechat-mp/wx123');
 * await sink.close();
 * ```
 */
export class DatabaseSink implements TransactionalSink, ResettableCheckpointStore {
  /** Instance id. */
  readonly id: string;
  /** Rows and checkpoint commit together and replays insert nothing. */
  readonly guarantee = 'exactly-once' as const;
  /** Which database this sink writes to. */
  readonly dialect: DatabaseDialectName;
  /** The target for messages: file path or URL with the password redacted. */
  readonly target: string;
  /** The validated configuration. */
  readonly config: DatabaseSinkConfig;

  readonly #connection: SinkConnection;
  readonly #checkpoints: CheckpointTable;
  readonly #query: RecordQuery;
  readonly #rowsPerInsert: number;
  readonly #copy = new PostgresCopyWriter();

  /** Validates the options; connects lazily, on first use. */
  constructor(options: DatabaseSinkOptions) {
    const { id, baseDir, logger, ...input } = options;
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
    const names = {
      schema: this.config.schema,
      records: this.config.table,
      checkpoints: this.config.checkpointTable,
      migrations: `${this.config.table}_migrations`,
    };
    if (names.records === names.checkpoints) {
      throw databaseSinkError('SINK_DB_CONFIG_INVALID', '`table` and `checkpointTable` must differ');
    }
    this.#connection = new SinkConnection(this.id, target, this.config, names, logger);
    this.#checkpoints = new CheckpointTable(this.#connection);
    this.#query = new RecordQuery(this.#connection);
    this.#rowsPerInsert = Math.max(
      1,
      Math.min(
        this.config.maxRowsPerInsert,
        Math.floor(this.#connection.dialect.parameterLimit / RECORD_ROW_PARAMETERS),
      ),
    );
  }

  /** The DDL this sink runs for its tables in an empty database (latest schema version), statement by statement. */
  schemaStatements(): string[] {
    return this.#connection.dialect.schemaStatements(this.#connection.names);
  }

  /** Creates or upgrades the tables now (otherwise done on first use); safe to call from many processes. */
  async migrate(): Promise<void> {
    return this.#connection.migrate();
  }

  /**
   * Inserts the batch's records (ignoring ones already stored) and upserts its checkpoint in
   * one transaction. Resolves once committed; on failure nothing of the batch is kept.
   */
  async write(batch: RecordBatch): Promise<void> {
    const connection = this.#connection;
    connection.assertOpen();
    const rows = this.#rowsOf(batch);
    const checkpointValue = this.#checkpoints.encode(batch.checkpointKey, batch.checkpoint, batch);
    await connection.migrate();
    const operation = `writing ${rows.length} records to ${connection.names.records}`;
    const postgres = connection.postgres;
    if (postgres && rows.length > 0 && !isEmptyCheckpoint(batch.checkpoint)) {
      // COPY, then the checkpoint, in one transaction (see PostgresCopyWriter).
      const upsert = this.#checkpoints.upsertStatement(batch.checkpointKey, checkpointValue);
      await connection.transactPostgres(operation, postgres, (client) =>
        this.#copy.write(client, connection.names, rows, upsert),
      );
      return;
    }
    const inserts = Array.from(this.#chunks(rows), (chunk) =>
      connection.dialect.insertRecords(connection.names, chunk),
    );
    const sqlite = connection.sqlite;
    if (sqlite && !isEmptyCheckpoint(batch.checkpoint)) {
      // The whole transaction in one message to the SQLite thread.
      const upsert = this.#checkpoints.upsertStatement(batch.checkpointKey, checkpointValue);
      await connection.transactSqlite(operation, sqlite, [...inserts, upsert]);
      return;
    }
    await connection.transact(operation, async (trx) => {
      // One statement at a time: the drivers queue (they do not pipeline) queries on a
      // connection, and pg deprecates queueing (pg 9 rejects it). Any failure rolls the
      // whole transaction back.
      for (const insert of inserts) await trx.executeQuery(insert);
      await this.#checkpoints.upsertIn(trx, batch.checkpointKey, checkpointValue);
    });
  }

  /**
   * Connects and runs a trivial query (`SELECT 1`), creating and writing nothing but a new
   * SQLite file: `kefu doctor` then tells a missing database (SINK_DB_NOT_FOUND), refused
   * credentials (SINK_DB_AUTH_FAILED) and an unreachable server (SINK_DB_UNAVAILABLE) apart.
   * Answers within `connectTimeoutMs`: a hung server or stalled network is SINK_DB_TIMEOUT
   * (what `kefu serve`'s `/readyz` reports). Never retried: it says how things are now.
   */
  async check(): Promise<void> {
    this.#connection.assertOpen();
    const operation = `connecting to ${this.target}`;
    // Bounded by connectTimeoutMs: a readiness probe must answer even when the network stalls.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            databaseSinkError('SINK_DB_TIMEOUT', `${operation}: no answer within ${this.config.connectTimeoutMs} ms`),
          ),
        this.config.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([
        this.#connection.run(operation, () => sql`select 1 as ok`.execute(this.#connection.db)),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The checkpoint stored under `key`, or undefined. */
  load(key: string): Promise<Checkpoint | undefined> {
    return this.#checkpoints.load(key);
  }

  /** Every stored checkpoint, by key (for `kefu checkpoints`). */
  entries(): Promise<Array<[string, Checkpoint]>> {
    return this.#checkpoints.entries();
  }

  /** Forgets the checkpoint under `key` (the stream restarts from `from`); true when it existed. Records stay. */
  delete(key: string): Promise<boolean> {
    return this.#checkpoints.delete(key);
  }

  /** Durably replaces the checkpoint under `key` (one atomic upsert). */
  save(key: string, checkpoint: Checkpoint): Promise<void> {
    return this.#checkpoints.save(key, checkpoint);
  }

  /** Reads records back, ordered by time then provider, account and id; page with `after`. */
  queryRecords(filter: RecordFilter = {}): Promise<KefuRecord[]> {
    return this.#query.queryRecords(filter);
  }

  /** How many records match the filter (`limit` and `after` are ignored). */
  countRecords(filter: Omit<RecordFilter, 'limit' | 'after'> = {}): Promise<number> {
    return this.#query.countRecords(filter);
  }

  /** Releases the connections; idempotent. Later calls fail with KEFU_SINK_CLOSED. */
  close(): Promise<void> {
    return this.#connection.close();
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
      // The fast check accepts the common shape without zod (which cost more than encoding the row).
      const valid = isPlainValidRecord(record) ? undefined : KefuRecordSchema.safeParse(record);
      if (valid && !valid.success) {
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
    // Key order, (at, id) within the batch's stream: inserts append at the key's right edge,
    // and one order for every writer makes lock-order deadlocks between concurrent batches rarer.
    rows.sort(byKey);
    return rows;
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
}

/** The records key's order within one stream; timestamps of one dialect compare as text. */
function byKey(a: RecordRow, b: RecordRow): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
