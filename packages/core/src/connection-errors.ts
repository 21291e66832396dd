/**
 * Lost connections, recognized once for every driver: a server restart, a failover or an
 * administrator ending a session (`pg_terminate_backend`, MySQL `KILL`) reaches clients as
 * socket errors, SQLSTATE codes or driver messages. Sinks and stores map these to their
 * retryable "unavailable" code, so the sync pipeline retries on a new connection.
 */

/** Socket errors that mean the peer went away or cannot be reached for now. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Driver codes for a connection that closed (mysql2). */
const DRIVER_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
]);

/**
 * SQLSTATE 08xxx (connection exception, SQL standard); PostgreSQL 57P01 admin shutdown
 * (`pg_terminate_backend`), 57P02 crash shutdown, 57P03 cannot connect now.
 */
const SQLSTATE = /^(?:08[0-9A-Z]{3}|57P0[123])$/;

/** MySQL/MariaDB: 1053 server shutdown, 1927 connection killed, 2006 gone away, 2013 lost during query. */
const MYSQL_ERRNOS = new Set([1053, 1927, 2006, 2013]);

/** What drivers say when the socket closed under them (pg, mysql2, kysely). */
const MESSAGES =
  /connection terminated|terminating connection|not queryable|connection (?:is )?in closed state|connection lost|server has gone away|connection was killed|socket (?:hang up|closed)|connection has been discarded/i;

/**
 * True when `error` (or one of its causes) says the connection to a server was lost or
 * cannot be made right now: trying again on a new connection may succeed.
 *
 * @example
 * ```ts
 * const code = isConnectionLoss(error) ? 'SINK_DB_UNAVAILABLE' : 'SINK_DB_FAILED';
 * ```
 */
export function isConnectionLoss(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, errno, message } = current as { code?: unknown; errno?: unknown; message?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || DRIVER_CODES.has(code) || SQLSTATE.test(code))) {
      return true;
    }
    if (typeof errno === 'number' && MYSQL_ERRNOS.has(errno)) return true;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    // pg: every address of a host refused (AggregateError of ECONNREFUSED).
    if (current instanceof AggregateError && current.errors.some((inner) => isConnectionLoss(inner))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Driver codes of a statement or connection attempt that ran out of time (mysql2, sockets). */
const TIMEOUT_CODES = new Set(['PROTOCOL_SEQUENCE_TIMEOUT', 'ETIMEDOUT']);

/** MariaDB 1969 max_statement_time exceeded; MySQL 3024 max_execution_time exceeded. */
const TIMEOUT_ERRNOS = new Set([1969, 3024]);

/**
 * What drivers say when a timeout they were given fired: pg's `query_timeout` ("Query read
 * timeout"), pg-pool's connect and checkout timeouts, PostgreSQL's `statement_timeout`
 * (SQLSTATE 57014 with this message), mysql2's per-query timeout ("Query inactivity timeout").
 */
const TIMEOUT_MESSAGES =
  /query read timeout|connection terminated due to connection timeout|timeout exceeded when trying to connect|canceling statement due to statement timeout|query inactivity timeout|max_statement_time exceeded|maximum statement execution time exceeded/i;

/**
 * True when `error` (or one of its causes) says a database statement or connection attempt
 * did not finish in the time it was given: a hung server or a stalled network. Check it
 * before {@link isConnectionLoss}, which also matches some of these (a timed-out socket is
 * a lost one too); both are worth retrying on a new connection.
 *
 * @example
 * ```ts
 * const code = isDatabaseTimeout(error) ? 'SINK_DB_TIMEOUT' : isConnectionLoss(error) ? 'SINK_DB_UNAVAILABLE' : 'SINK_DB_FAILED';
 * ```
 */
export function isDatabaseTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, errno, message } = current as { code?: unknown; errno?: unknown; message?: unknown };
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return true;
    if (typeof errno === 'number' && TIMEOUT_ERRNOS.has(errno)) return true;
    if (typeof message === 'string' && TIMEOUT_MESSAGES.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
