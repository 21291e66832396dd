import { defineErrorCatalogue, type ErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/sink-db (codes prefixed `SINK_DB_`); docs/sinks/database.md lists them. */
export const databaseSinkErrorCatalogue = {
  SINK_DB_CONFIG_INVALID: {
    description: 'The sink configuration is invalid (unknown URL scheme, bad table name, option out of range).',
    fix: 'Correct the field named in the message: `url` is a file path, `sqlite://`, `postgres://` or `mysql://` URL; table names match [A-Za-z_][A-Za-z0-9_]*.',
  },
  SINK_DB_UNAVAILABLE: {
    description: 'The database cannot be reached (connection refused, reset, timed out, server shutting down).',
    fix: 'Check that the server named in the message is running and reachable; the pipeline retries these automatically.',
    retryable: true,
  },
  SINK_DB_TIMEOUT: {
    description:
      'A statement or a connection attempt did not finish within `statementTimeoutMs` / `connectTimeoutMs`: the server hangs, or the network between them stalled.',
    fix: 'Check the server named in the message and the network path to it (proxies, firewalls dropping idle connections); the write is retried on a new connection. Raise `statementTimeoutMs` only if statements are legitimately that slow.',
    retryable: true,
  },
  SINK_DB_AUTH_FAILED: {
    description:
      'The database refused access: wrong credentials, missing rights, or a SQLite file that cannot be opened or written.',
    fix: 'Check the user and password in `url` (the password is never printed) and the role’s rights, or the SQLite file path and its permissions.',
  },
  SINK_DB_NOT_FOUND: {
    description: 'The server is reachable and accepted the login, but the database named in `url` does not exist.',
    fix: 'Create it (`createdb <name>`, `CREATE DATABASE <name>`) or correct the database name at the end of `url`.',
  },
  SINK_DB_DISK_FULL: {
    description:
      'The disk holding the database is full (SQLite SQLITE_FULL, PostgreSQL 53100, MySQL 1021/1114): the batch was rolled back.',
    fix: 'Free space on the file system of the SQLite file or the database server named in the message; the batch was rolled back, the write is retried, and a later run resumes where the checkpoint stopped.',
    retryable: true,
  },
  SINK_DB_BUSY: {
    description:
      'The transaction lost a lock race (deadlock, lock wait timeout, SQLITE_BUSY) and internal retries ran out.',
    fix: 'Usually transient and retried by the pipeline; if it persists, reduce the number of writers on the same table.',
    retryable: true,
  },
  SINK_DB_CONSTRAINT: {
    description: 'The database rejected a row (check constraint, trigger, NOT NULL, invalid JSON).',
    fix: 'Look at the constraint named in the message; the whole batch was rolled back and the checkpoint was not advanced.',
  },
  SINK_DB_SCHEMA: {
    description: 'The tables do not have the expected shape, or were migrated by a newer version of @kefu/sink-db.',
    fix: 'Point `table` at a table created by this sink, or upgrade @kefu/sink-db to the version that migrated it.',
  },
  SINK_DB_VALUE_INVALID: {
    description: 'A record field cannot be stored (too long for its column, or not representable by the database).',
    fix: 'The column limits are listed in docs/sinks/database.md; report the provider that produced the record.',
  },
  SINK_DB_BATCH_INVALID: {
    description:
      'A batch is malformed: records of another stream, a checkpoint of another stream, or an invalid record.',
    fix: 'This is a bug in the caller: a batch carries records and the checkpoint of the one stream it names.',
  },
  SINK_DB_CHECKPOINT_INVALID: {
    description: 'A stored or given checkpoint is malformed, or an empty checkpoint would replace stored progress.',
    fix: 'Delete the key named in the message (`sink.delete(key)` or its row in the checkpoint table); that stream then restarts from `from`.',
  },
  SINK_DB_QUERY_INVALID: {
    description: 'A `queryRecords` / `countRecords` filter is malformed.',
    fix: 'Pass ISO-8601 dates or Date objects, `limit` between 1 and 10000, and `after` as a record returned before.',
  },
  SINK_DB_FAILED: {
    description: 'The database failed in a way the sink does not recognize.',
    fix: 'See the cause (driver code and message); report it if it is not an operational problem of the server.',
  },
} as const satisfies ErrorCatalogue<string>;

/** Creates a @kefu/sink-db error by code. */
export const databaseSinkError = defineErrorCatalogue(databaseSinkErrorCatalogue);
/** The error codes of @kefu/sink-db. */
export type DatabaseSinkErrorCode = keyof typeof databaseSinkErrorCatalogue;
