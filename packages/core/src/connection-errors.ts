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
