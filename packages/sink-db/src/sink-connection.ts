import {
  isKefuError,
  type KefuError,
  type KefuLogger,
  retryWithBackoff,
  silentLogger,
  sinkClosedError,
} from '@kefu/core';
import { type CompiledQuery, Kysely, type Transaction } from 'kysely';
import type { Pool, PoolClient } from 'pg';
import type { DatabaseSinkConfig } from './database-sink-config.js';
import type { DatabaseTarget } from './database-url.js';
import { type SinkDialect, sinkDialect } from './dialects/index.js';
import { PostgresPoolDialect } from './dialects/postgres/postgres-dialect.js';
import { toDatabaseSinkError } from './driver-errors.js';
import { migrateSchema } from './migrations.js';
import { encodeTimestamp, type RecordRow } from './record-rows.js';
import { SqliteWriteLock } from './sqlite-write-lock.js';
import type { TableNames } from './table-names.js';
import { WorkerSqliteDialect } from './worker-sqlite-dialect.js';

/** The tables as Kysely sees them; the real names come from the config (see `tables`). */
export interface SinkTables {
  records: RecordRow & { inserted_at?: string };
  checkpoints: { checkpoint_key: string; value: string; updated_at: string };
}

/** Retries of one transaction that lost a lock race; the work is idempotent, so retrying is safe. */
const BUSY_RETRY_POLICY = { maxAttempts: 6, baseDelayMs: 25, maxDelayMs: 1000, jitter: 1 };

/**
 * Retries across an outage (a lost, refused or timed-out connection): back-off from 250 ms
 * to 5 s, for as long as `outageRetryMs` allows (the attempts are bounded by time, not count).
 */
const OUTAGE_RETRY_POLICY = { maxAttempts: Number.MAX_SAFE_INTEGER, baseDelayMs: 250, maxDelayMs: 5_000, jitter: 1 };

/** The codes of a database that cannot be reached right now; the work is retried on a new connection. */
const OUTAGE_CODES = new Set(['SINK_DB_UNAVAILABLE', 'SINK_DB_TIMEOUT']);

/**
 * One sink's database: the Kysely instance, the dialect, the table names, the lazy
 * migration, and the transaction, retry and error-mapping rules every part of the sink
 * (records, checkpoints, queries) shares.
 */
export class SinkConnection {
  readonly dialect: SinkDialect;
  readonly names: TableNames;
  readonly db: Kysely<SinkTables>;
  /** SQLite only: runs a batch's statements as one transaction on the worker thread. */
  readonly sqlite: WorkerSqliteDialect | undefined;
  /** PostgreSQL only: the pool, for transactions that need the client itself (COPY). */
  readonly postgres: Pool | undefined;
  readonly #sqliteLock: SqliteWriteLock | undefined;
  readonly #outageRetryMs: number;
  readonly #config: DatabaseSinkConfig;
  readonly #logger: KefuLogger;
  /** Aborted by close(): a write waiting out an outage stops at once. */
  readonly #closing = new AbortController();
  #ready: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    readonly sinkId: string,
    readonly target: DatabaseTarget,
    config: DatabaseSinkConfig,
    names: TableNames,
    logger: KefuLogger = silentLogger,
  ) {
    this.#logger = logger;
    this.dialect = sinkDialect(target.dialect);
    this.names = names;
    this.#outageRetryMs = config.outageRetryMs;
    this.#config = config;
    this.#sqliteLock = target.dialect === 'sqlite' ? SqliteWriteLock.forFile(target.path) : undefined;
    const kyselyDialect = this.dialect.createKyselyDialect(target, config);
    this.sqlite = kyselyDialect instanceof WorkerSqliteDialect ? kyselyDialect : undefined;
    this.postgres = kyselyDialect instanceof PostgresPoolDialect ? kyselyDialect.pool : undefined;
    this.db = new Kysely<SinkTables>({ dialect: kyselyDialect });
  }

  /** The configured table names, typed as Kysely's fixed keys. */
  get tables(): { records: 'records'; checkpoints: 'checkpoints' } {
    return { records: this.names.records as 'records', checkpoints: this.names.checkpoints as 'checkpoints' };
  }

  /** `db` or `trx` in the configured schema. */
  scoped<D extends Kysely<SinkTables> | Transaction<SinkTables>>(db: D): D {
    return (this.names.schema ? db.withSchema(this.names.schema) : db) as D;
  }

  /** A timestamp encoded for this dialect's columns. */
  timestamp(value: Date | string): string {
    return encodeTimestamp(value, this.dialect.name);
  }

  /** Creates or upgrades the tables once; a failed attempt lets the next call try again. */
  migrate(): Promise<void> {
    this.assertOpen();
    this.#ready ??= this.#runMigrations().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Runs `work` in one transaction, retrying lost lock races and, whole, transactions cut
   * off by an outage (see {@link retryOutage}); maps driver errors.
   */
  transact<T>(operation: string, work: (trx: Transaction<SinkTables>) => Promise<T>): Promise<T> {
    return this.retryOutage(() =>
      this.retryBusy(() => this.exclusive(() => this.run(operation, () => this.db.transaction().execute(work)))),
    );
  }

  /** SQLite: runs compiled statements as one transaction in one message to the worker thread. */
  transactSqlite(operation: string, sqlite: WorkerSqliteDialect, statements: CompiledQuery[]): Promise<void> {
    return this.retryOutage(() =>
      this.retryBusy(() => this.exclusive(() => this.run(operation, () => sqlite.runTransaction(statements)))),
    );
  }

  /** Runs a single read, retried across an outage like a transaction. */
  runRetrying<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return this.retryOutage(() => this.run(operation, work));
  }

  /**
   * Retries `attempt` while the database is unreachable or hangs (SINK_DB_UNAVAILABLE,
   * SINK_DB_TIMEOUT), with back-off, for at most `outageRetryMs`; then the last error is
   * thrown. Safe for the sink's transactions: a retried batch inserts nothing twice (rows
   * already stored are ignored) and rewrites the same checkpoint, so a commit whose
   * acknowledgement was lost is neither lost nor duplicated.
   */
  retryOutage<T>(attempt: () => Promise<T>): Promise<T> {
    if (this.#outageRetryMs === 0) return attempt();
    const deadline = Date.now() + this.#outageRetryMs;
    return retryWithBackoff(
      () => {
        this.assertOpen();
        return attempt();
      },
      {
        policy: OUTAGE_RETRY_POLICY,
        signal: this.#closing.signal,
        isRetryable: (error) => isOutage(error) && Date.now() < deadline,
        onRetry: ({ attempt, delayMs, error }) => {
          const { code, message } = error as KefuError;
          this.#logger.warn('database unreachable or hung, retrying the transaction on a new connection', {
            sink: this.sinkId,
            attempt,
            delayMs,
            error: { code, message },
          });
        },
      },
    );
  }

  /**
   * PostgreSQL: runs `work` on a pooled client inside BEGIN … COMMIT (ROLLBACK on failure),
   * retrying lost lock races and outages like {@link transact}; a client whose connection
   * broke is discarded.
   */
  transactPostgres(operation: string, pool: Pool, work: (client: PoolClient) => Promise<void>): Promise<void> {
    return this.retryOutage(() => this.#transactPostgresOnce(operation, pool, work));
  }

  #transactPostgresOnce(operation: string, pool: Pool, work: (client: PoolClient) => Promise<void>): Promise<void> {
    return this.retryBusy(() =>
      this.run(operation, async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
          await client.query('BEGIN');
          await work(client);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          });
          throw error;
        } finally {
          client.release(broken);
        }
      }),
    );
  }

  /** Retries a transaction that lost a lock race (its work is idempotent). */
  retryBusy<T>(transaction: () => Promise<T>): Promise<T> {
    return retryWithBackoff(transaction, { policy: BUSY_RETRY_POLICY, isRetryable: isBusy });
  }

  /** Runs a single statement, mapping driver errors. */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.mapError(error, operation);
    }
  }

  /**
   * SQLite: serializes write transactions of all sinks on the same file in this process,
   * so they queue here instead of spinning on SQLite's busy timeout (each connection has
   * its own thread); other processes are handled by busy_timeout.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#sqliteLock ? this.#sqliteLock.run(work) : work();
  }

  mapError(error: unknown, operation: string): KefuError {
    return toDatabaseSinkError(error, { dialect: this.dialect.name, operation, target: this.target.display });
  }

  assertOpen(): void {
    if (this.#closed) throw sinkClosedError(`database sink ${this.sinkId} (${this.target.display})`);
  }

  /** Releases the connections; idempotent. */
  close(): Promise<void> {
    this.#closing.abort(sinkClosedError(`database sink ${this.sinkId} (${this.target.display})`));
    this.#closed ??= (async () => {
      // Let a migration in flight finish so its lock and connection are released.
      await this.#ready?.catch(() => undefined);
      await this.db.destroy();
    })();
    return this.#closed;
  }

  async #runMigrations(): Promise<void> {
    const now = this.timestamp(new Date());
    const operation = `migrating ${this.names.records}`;
    await this.retryOutage(() =>
      this.exclusive(() =>
        this.run(operation, () =>
          this.retryBusy(() =>
            this.#withMigrationDb((db) =>
              migrateSchema(db, this.dialect, this.names, now).catch((error: unknown) => {
                throw this.mapError(error, operation);
              }),
            ),
          ),
        ),
      ),
    );
  }

  /**
   * PostgreSQL / MySQL: migrations run on a connection of their own without the statement
   * timeout (rebuilding a key on a large table may take longer than any write should); it
   * is closed afterwards. SQLite uses the sink's own connection (its only one).
   */
  async #withMigrationDb<T>(work: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    // Seam: the typed instance meets the untyped migration runner; Kysely's type helpers make Kysely<SinkTables>
    // unassignable to Kysely<unknown>, and SQLite must reuse this connection (its only one), so it is cast here only.
    if (this.sqlite) return work(this.db as unknown as Kysely<unknown>);
    const config = { ...this.#config, statementTimeoutMs: 0, poolSize: 1 };
    const db = new Kysely<unknown>({ dialect: this.dialect.createKyselyDialect(this.target, config) });
    try {
      return await work(db);
    } finally {
      await db.destroy().catch(() => undefined);
    }
  }
}

function isOutage(error: unknown): boolean {
  return isKefuError(error) && OUTAGE_CODES.has(error.code);
}

function isBusy(error: unknown): boolean {
  return isKefuError(error) && error.code === 'SINK_DB_BUSY';
}
