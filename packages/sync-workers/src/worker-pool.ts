import { registerSecret } from '@kefu/core';
import pg from 'pg';
import { syncWorkersError } from './errors.js';

/** Options of {@link openWorkerPool}. */
export interface WorkerPoolOptions {
  /** Connections at most (default 4: leases, heartbeats and token locks are short). */
  max?: number;
  /** Connecting, or waiting for a free pooled connection, at most this long in ms (default 10000). */
  connectTimeoutMs?: number;
  /** One statement at most this long in ms, on the server and (a little later) on the client (default 60000). */
  statementTimeoutMs?: number;
  /**
   * A transaction left idle this long (ms) loses its session, and with it its locks
   * (default 300000): a worker hung while holding the token lock frees it for the fleet.
   * Longer than a token refresh, which holds the lock while it calls the platform.
   */
  idleInTransactionTimeoutMs?: number;
  /** TCP keepalive probes start after this long idle, in ms (default 10000). */
  keepAliveInitialDelayMs?: number;
}

/** The client gives up this long after the server's statement_timeout should have answered. */
const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

/**
 * Opens a `pg` pool for the work and token tables from a `postgres://` URL; the URL's
 * password is registered as a secret. Close it with `pool.end()`.
 */
export function openWorkerPool(url: string, options: WorkerPoolOptions = {}): pg.Pool {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw syncWorkersError(
      'WORKERS_CONFIG_INVALID',
      'the worker database URL is not a URL; use postgres://user:pass@host:5432/db',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw syncWorkersError(
      'WORKERS_CONFIG_INVALID',
      `workers need PostgreSQL (postgres://…), got a ${parsed.protocol.replace(':', '')} URL`,
    );
  }
  if (parsed.password) registerSecret(decodeURIComponent(parsed.password));
  const statementTimeout = options.statementTimeoutMs ?? 60_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveInitialDelayMs ?? 10_000,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + CLIENT_TIMEOUT_MARGIN_MS,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 300_000,
  });
  // A client losing its server (restart, failover, pg_terminate_backend) emits 'error': on
  // the pool when idle, on the client itself while checked out, where pg attaches no
  // listener (an unhandled 'error' event would end the process). The query in flight or
  // the next one fails instead, as WORKERS_DATABASE_UNREACHABLE, and pg drops the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  // A client handed back with a query still on the wire timed out (query_timeout leaves the
  // query there): later queries would queue behind it. Ending it destroys its socket.
  pool.on('release', (error, client) => {
    // `_activeQuery` is pg's own record of the query on the wire (no public accessor in pg 8).
    if (!error && Reflect.get(client, '_activeQuery')) client.end().catch(() => undefined);
  });
  return pool;
}
