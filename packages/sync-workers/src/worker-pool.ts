import { registerSecret } from '@kefu/core';
import pg from 'pg';
import { syncWorkersError } from './errors.js';

/** Options of {@link openWorkerPool}. */
export interface WorkerPoolOptions {
  /** Connections at most (default 4: leases, heartbeats and token locks are short). */
  max?: number;
}

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
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4 });
  // A client losing its server (restart, failover, pg_terminate_backend) emits 'error': on
  // the pool when idle, on the client itself while checked out, where pg attaches no
  // listener (an unhandled 'error' event would end the process). The query in flight or
  // the next one fails instead, as WORKERS_DATABASE_UNREACHABLE, and pg drops the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}
