import { z } from 'zod';

/** Table and schema names: plain identifiers, short enough for the derived index and migration names. */
const IdentifierSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,39}$/, 'must match [A-Za-z_][A-Za-z0-9_]* and be at most 40 characters');

/** Configuration of a {@link DatabaseSink} (also the plugin's `config` block). */
export const DatabaseSinkConfigSchema = z.strictObject({
  /**
   * Where to write: a file path (SQLite, the embedded default), `sqlite:///abs/path.db`,
   * `file:` URL, `postgres://user:pass@host:5432/db` or `mysql://user:pass@host:3306/db`.
   */
  url: z.string().min(1, '`url` is required: a SQLite file path or a postgres:// / mysql:// URL'),
  /** The records table (default `kefu_records`). */
  table: IdentifierSchema.default('kefu_records'),
  /** The checkpoint table (default `kefu_checkpoints`). */
  checkpointTable: IdentifierSchema.default('kefu_checkpoints'),
  /** PostgreSQL schema or MySQL database holding the tables (default: the connection's). Not for SQLite. */
  schema: IdentifierSchema.optional(),
  /** Rows per multi-row INSERT, at most (default 500; lowered further to stay under parameter limits). */
  maxRowsPerInsert: z.number().int().min(1).max(5000).default(500),
  /** Pooled connections for PostgreSQL / MySQL (default 4). */
  poolSize: z.number().int().min(1).max(100).default(4),
  /**
   * PostgreSQL / MySQL: how long connecting (and waiting for a free pooled connection) may
   * take, in ms (default 10000). Past it the attempt fails with SINK_DB_TIMEOUT.
   */
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /**
   * PostgreSQL / MySQL: how long one statement may run, in ms (default 60000; 0 = no limit).
   * PostgreSQL enforces it on the server (`statement_timeout`, and
   * `idle_in_transaction_session_timeout` so a client that hangs mid-transaction releases
   * its locks); the client gives up shortly after (a stalled network never answers) and
   * discards the connection. The statement fails with SINK_DB_TIMEOUT.
   */
  statementTimeoutMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /** PostgreSQL / MySQL: TCP keepalive probes start after this long idle, in ms (default 10000). */
  keepAliveInitialDelayMs: z.number().int().min(1000).max(3_600_000).default(10_000),
  /**
   * How long a write keeps retrying a lost, refused or timed-out connection, in ms, with
   * exponential back-off (default 60000; 0 = fail at once and leave retries to the
   * pipeline). The transaction is retried whole: replayed rows are ignored and the
   * checkpoint is rewritten, so a commit cut off mid-way neither loses nor duplicates.
   */
  outageRetryMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /** How long SQLite waits for another process's write lock, in ms (default 10000). */
  busyTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
  /**
   * SQLite's `synchronous` setting (default `full`): `full` fsyncs the WAL at every commit, so
   * an acknowledged batch survives power loss; `normal` survives a process crash only, and
   * writes faster. Either way records and checkpoint stay in one transaction.
   */
  synchronous: z.enum(['full', 'normal']).default('full'),
  /**
   * SQLite's page cache per connection in MiB (default 8; SQLite's own default is 2). The
   * hot pages of a time-ordered insert are the right edges of the key and `(at)` B-trees
   * and one `(customer, at)` leaf per active customer; pages that fall out are re-read
   * from the OS's file cache. At a million rows 8 MiB inserted as fast as 16 and 64 MiB
   * (docs/benchmarks.md) with 8 and 60 MiB less RSS: raise it on a host with memory to spare.
   */
  cacheSizeMiB: z.number().int().min(2).max(4096).default(8),
  /**
   * Where SQLite runs (default `main`): `main`, on the thread that syncs (no second V8
   * isolate and no copy of each batch: 10–15 MiB less RSS, and as fast at a million
   * records; each transaction blocks the event loop while it inserts and fsyncs), or
   * `worker`, on a thread of its own (the event loop stays free during writes: for a
   * process that must answer requests within milliseconds while it syncs). Not for
   * PostgreSQL / MySQL.
   */
  sqliteThread: z.enum(['main', 'worker']).default('main'),
});
/** Validated sink configuration. */
export type DatabaseSinkConfig = z.output<typeof DatabaseSinkConfigSchema>;
/** Sink configuration as users write it (defaults optional). */
export type DatabaseSinkConfigInput = z.input<typeof DatabaseSinkConfigSchema>;
