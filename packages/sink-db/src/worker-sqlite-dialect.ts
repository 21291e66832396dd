import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SelectQueryNode,
  SqliteDialect,
} from 'kysely';

/**
 * SQLite through `node:sqlite`, on the main thread or on a thread of its own.
 * `node:sqlite` is synchronous: on the main thread every INSERT and every commit's fsync
 * stops the event loop (a sync fetches the next page only between transactions, an
 * embedding HTTP server answers only between them). On a worker thread the loop stays
 * free, at the price of a second V8 isolate (10–13 MiB of RSS in a 1 M-record sync) and a
 * structured clone of every batch. Either way one connection runs the statements in the
 * order they were sent and the caller awaits the answers.
 */

/** What the worker is asked: open the file, run one statement, or close. */
type WorkerRequest =
  | { id: number; op: 'open'; path: string; setup: readonly string[] }
  | { id: number; op: 'query'; sql: string; parameters: readonly unknown[] }
  | { id: number; op: 'transaction'; statements: ReadonlyArray<{ sql: string; parameters: readonly unknown[] }> }
  | { id: number; op: 'close' };

/** A request before the worker client numbers it. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A driver error as it crossed the thread boundary (the fields driver-errors reads). */
interface WorkerError {
  message: string;
  code?: unknown;
  errcode?: unknown;
  errstr?: unknown;
}

/** The worker's answer to one request. */
type WorkerAnswer =
  | { id: number; rows: unknown[] }
  | { id: number; changes: number | bigint; lastInsertRowid: number | bigint }
  | { id: number; done: true }
  | { id: number; error: WorkerError };

/**
 * Answers requests against one `node:sqlite` connection, synchronously. Also the worker
 * thread's code, started from its own source text (`eval`), so it must be self-contained:
 * builtins come from `process.getBuiltinModule`, nothing is imported.
 */
function sqliteConnectionHandler(): (request: WorkerRequest) => WorkerAnswer {
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
  // Kysely prepares every query anew; a multi-row INSERT is worth preparing once.
  const statements = new Map<string, { statement: import('node:sqlite').StatementSync; reader: boolean }>();
  let database: import('node:sqlite').DatabaseSync | undefined;
  let closed = false;
  return (request: WorkerRequest): WorkerAnswer => {
    try {
      if (request.op === 'open') {
        if (request.path !== ':memory:') {
          // Records are personal data: a new database file is 0600, like tokens. SQLite
          // gives its -wal and -shm files the database file's mode.
          const { closeSync, openSync } = process.getBuiltinModule('node:fs');
          try {
            closeSync(openSync(request.path, 'a', 0o600));
          } catch {
            // Not creatable (no directory, no rights): opening it below says why, as SQLite does.
          }
        }
        database = new DatabaseSync(request.path);
        for (const sql of request.setup) database.exec(sql);
        return { id: request.id, done: true };
      }
      if (request.op === 'close') {
        closed = true;
        statements.clear();
        if (database?.isOpen) database.close();
        return { id: request.id, done: true };
      }
      const db = database;
      if (closed) throw new Error('the SQLite connection is closed');
      if (!db) throw new Error('the SQLite connection got a statement before its database was opened');
      const execute = (sql: string, parameters: readonly unknown[]) => {
        let entry = statements.get(sql);
        if (!entry) {
          const statement = db.prepare(sql);
          // A statement returns rows exactly when it has result columns (SELECT, RETURNING, PRAGMA).
          entry = { statement, reader: statement.columns().length > 0 };
          if (statements.size >= 64) statements.delete(statements.keys().next().value as string);
          statements.set(sql, entry);
        }
        const bound = parameters as Parameters<import('node:sqlite').StatementSync['all']>;
        return entry.reader ? { rows: entry.statement.all(...bound) } : entry.statement.run(...bound);
      };
      if (request.op === 'transaction') {
        // The whole batch in one request: no round trip to the caller between statements.
        db.exec('BEGIN IMMEDIATE');
        try {
          for (const statement of request.statements) execute(statement.sql, statement.parameters);
          db.exec('COMMIT');
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        }
        return { id: request.id, done: true };
      }
      const result = execute(request.sql, request.parameters);
      if ('rows' in result) return { id: request.id, rows: result.rows };
      return { id: request.id, changes: result.changes, lastInsertRowid: result.lastInsertRowid };
    } catch (error) {
      const shape = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
      return {
        id: request.id,
        error: {
          message: error instanceof Error ? error.message : String(error),
          code: shape.code,
          errcode: shape.errcode,
          errstr: shape.errstr,
        },
      };
    }
  };
}

/** The worker thread's program: {@link sqliteConnectionHandler} behind the thread's port. */
function sqliteWorkerProgram(makeHandler: typeof sqliteConnectionHandler): void {
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  if (!parentPort) return;
  const port = parentPort;
  const handle = makeHandler();
  port.on('message', (request: WorkerRequest) => {
    port.postMessage(handle(request));
    if (request.op === 'close') port.close();
  });
}

/** An Error carrying the driver fields of an error thrown in the worker. */
function rebuildError(error: WorkerError): Error {
  return Object.assign(new Error(error.message), {
    ...(error.code !== undefined ? { code: error.code } : {}),
    ...(error.errcode !== undefined ? { errcode: error.errcode } : {}),
    ...(error.errstr !== undefined ? { errstr: error.errstr } : {}),
  });
}

/** One connection's requests and answers, wherever the connection runs. */
interface SqliteChannel {
  /** Sends one request; its answer comes back in order with every other. */
  send(request: Unnumbered<WorkerRequest>): Promise<WorkerAnswer>;
  /** Closes the database (and ends its thread, if it has one). */
  close(): Promise<void>;
}

/** The connection on the main thread: each request runs synchronously, after the caller's current task. */
class InThreadSqlite implements SqliteChannel {
  readonly #handle = sqliteConnectionHandler();
  #nextId = 1;

  send(request: Unnumbered<WorkerRequest>): Promise<WorkerAnswer> {
    const id = this.#nextId++;
    // Microtasks run in the order they were queued, so requests keep their order. The
    // parameters are used as they are: no copy, as there is no thread to cross.
    return Promise.resolve().then(() => {
      const answer = this.#handle({ ...request, id } as WorkerRequest);
      if ('error' in answer) throw rebuildError(answer.error);
      return answer;
    });
  }

  async close(): Promise<void> {
    await this.send({ op: 'close' });
  }
}

/** The connection on a worker thread, and the requests waiting for its answers. */
class SqliteWorker implements SqliteChannel {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (answer: WorkerAnswer) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #exited: Error | undefined;

  constructor() {
    // The thread holds one transaction's parameters at a time: a small young generation and
    // a bounded old one keep its heap from growing to Node's machine-sized defaults, which
    // added ~70 MiB of RSS to a 1 M-record sync (an out-of-memory thread fails the write
    // with a typed error, the process lives on).
    this.#worker = new Worker(`(${sqliteWorkerProgram.toString()})(${sqliteConnectionHandler.toString()})`, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 256 },
    });
    // An idle worker must not keep the process alive; a pending request does (see #send).
    this.#worker.unref();
    this.#worker.on('message', (answer: WorkerAnswer) => {
      const waiter = this.#pending.get(answer.id);
      if (!waiter) return;
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if ('error' in answer) waiter.reject(rebuildError(answer.error));
      else waiter.resolve(answer);
    });
    const fail = (error: Error) => {
      this.#exited ??= error;
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the SQLite worker thread exited (code ${code})`)));
  }

  send(request: Unnumbered<WorkerRequest>): Promise<WorkerAnswer> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    await this.send({ op: 'close' }).catch(() => undefined);
    // Keep the process alive until the thread has ended (an unref'd wait would not).
    this.#worker.ref();
    await exited;
  }
}

/** Kysely's view of the worker's one connection. */
class WorkerSqliteConnection implements DatabaseConnection {
  readonly #worker: SqliteChannel;

  constructor(worker: SqliteChannel) {
    this.#worker = worker;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const answer = await this.#worker.send({
      op: 'query',
      sql: compiledQuery.sql,
      parameters: compiledQuery.parameters,
    });
    if ('rows' in answer) return { rows: answer.rows as R[] };
    if (!('changes' in answer)) return { rows: [] };
    return { numAffectedRows: BigInt(answer.changes), insertId: BigInt(answer.lastInsertRowid), rows: [] };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('the SQLite driver streams only SELECT queries');
    }
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (const row of rows) yield { rows: [row] };
  }
}

/** Where the database is and the statements run once after opening it (PRAGMAs). */
export interface WorkerSqliteOptions {
  /** A file path, or `:memory:`. */
  path: string;
  setup?: readonly string[];
  /**
   * Where the connection runs: `worker`, a thread of its own (the default: the event loop
   * stays free during inserts and fsyncs), or `main`, the calling thread (no second V8
   * isolate and no copy of each batch, but each statement blocks the event loop while it runs).
   */
  thread?: 'main' | 'worker';
}

/** A driver over a {@link SqliteChannel}; write transactions take the lock up front. */
class WorkerSqliteDriver implements Driver {
  readonly #options: WorkerSqliteOptions;
  #worker: SqliteChannel | undefined;
  #connection: WorkerSqliteConnection | undefined;

  constructor(options: WorkerSqliteOptions) {
    this.#options = options;
  }

  async init(): Promise<void> {
    const worker: SqliteChannel = this.#options.thread === 'main' ? new InThreadSqlite() : new SqliteWorker();
    try {
      await worker.send({ op: 'open', path: this.#options.path, setup: this.#options.setup ?? [] });
    } catch (error) {
      await worker.close();
      throw error;
    }
    this.#worker = worker;
    this.#connection = new WorkerSqliteConnection(worker);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#connection) throw new Error('the SQLite driver is not initialized');
    return this.#connection;
  }

  // A deferred BEGIN that later writes can fail with SQLITE_BUSY without waiting for the
  // busy timeout; taking the write lock up front makes concurrent writers queue instead.
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {}

  /** Runs `statements` in one `BEGIN IMMEDIATE` … `COMMIT` (rolled back on any error). */
  async runTransaction(statements: readonly CompiledQuery[]): Promise<void> {
    if (!this.#worker) throw new Error('the SQLite driver is not initialized: run a query first');
    await this.#worker.send({
      op: 'transaction',
      statements: statements.map(({ sql, parameters }) => ({ sql, parameters })),
    });
  }

  async destroy(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#connection = undefined;
    await worker?.close();
  }
}

/**
 * A Kysely dialect over `node:sqlite` running on a worker thread (or, with `thread:
 * 'main'`, on the calling one): the SQL of Kysely's SQLite dialect, statements executed
 * in order on one connection.
 */
export class WorkerSqliteDialect extends SqliteDialect {
  readonly #options: WorkerSqliteOptions;
  #driver: WorkerSqliteDriver | undefined;

  /** The database is opened on first use. */
  constructor(options: WorkerSqliteOptions) {
    // SqliteDialect wants a database factory; this dialect replaces the driver that uses it.
    super({ database: () => Promise.reject(new Error('unused: WorkerSqliteDialect has its own driver')) });
    this.#options = options;
  }

  /** The driver talking to the connection. */
  override createDriver(): Driver {
    this.#driver = new WorkerSqliteDriver(this.#options);
    return this.#driver;
  }

  /**
   * Runs `statements` as one write transaction in a single message to the worker: the
   * hot path of a sink, which would otherwise wait for the event loop between statements.
   * Needs the Kysely instance to have run a query first (which opens the database).
   */
  runTransaction(statements: readonly CompiledQuery[]): Promise<void> {
    if (!this.#driver) return Promise.reject(new Error('the dialect is not in use by a Kysely instance yet'));
    return this.#driver.runTransaction(statements);
  }
}
