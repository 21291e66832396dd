import { createRequire } from 'node:module';
import type pg from 'pg';
import type { DatabaseSinkConfig } from '../../database-sink-config.js';

// `pg` is required when a PostgreSQL sink opens its pool, not when the package loads: a
// SQLite or file sync does not keep its code (and mysql2's) in memory.
const require = createRequire(import.meta.url);

/** The client gives up this long (at most; half the statement timeout when shorter) after the server's statement_timeout should have answered. */
export const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

/** The pool's timeouts and keepalive, from the sink config. */
export type PostgresPoolTimeouts = Pick<
  DatabaseSinkConfig,
  'poolSize' | 'connectTimeoutMs' | 'statementTimeoutMs' | 'keepAliveInitialDelayMs'
>;

/**
 * A `pg` pool that survives its server: lost connections become errors of the query in
 * flight instead of process crashes, and hung ones become timeouts.
 *
 * - `statement_timeout` and `idle_in_transaction_session_timeout` on the server: a slow
 *   statement is cancelled, and a client that hangs mid-transaction (its network stalled)
 *   loses its session, so its locks (the checkpoint row, a token lock) are released.
 * - `query_timeout` on the client, a little later: a stalled network never delivers the
 *   server's answer; the query fails with "Query read timeout".
 * - TCP keepalive: a peer that vanished without closing (a host gone, a NAT entry dropped)
 *   is noticed on idle connections.
 */
export function openPostgresPool(url: string, options: PostgresPoolTimeouts): pg.Pool {
  const statementTimeout = options.statementTimeoutMs;
  const { Pool } = require('pg') as typeof pg;
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveInitialDelayMs,
    ...(statementTimeout > 0
      ? {
          statement_timeout: statementTimeout,
          idle_in_transaction_session_timeout: statementTimeout,
          query_timeout: statementTimeout + Math.min(CLIENT_TIMEOUT_MARGIN_MS, Math.ceil(statementTimeout / 2)),
        }
      : {}),
  });
  guardPostgresPool(pool);
  return pool;
}

/**
 * A server ending a session (restart, failover, `pg_terminate_backend`) makes pg emit
 * 'error' on the client: on the pool for idle clients, and on the client itself while it
 * is lent out — where pg attaches no listener, so the process would crash with an
 * unhandled 'error' event. With listeners on both, the query in flight (or the next one
 * on that client) fails instead and pg drops the broken client: the retry gets a new one.
 *
 * A client handed back while a query is still running on it timed out (`query_timeout`
 * rejects the query but leaves it on the wire): every later query would queue behind it.
 * Ending it there destroys its socket, and the pool replaces it.
 */
export function guardPostgresPool(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  pool.on('release', (error, client) => {
    // `_activeQuery` is pg's own record of the query on the wire (no public accessor in pg 8).
    if (!error && Reflect.get(client, '_activeQuery')) client.end().catch(() => undefined);
  });
}
