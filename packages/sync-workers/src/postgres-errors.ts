import { isConnectionLoss, isDatabaseTimeout, isKefuError, type KefuError } from '@kefu/core';
import { syncWorkersError } from './errors.js';

/** SQLSTATE class 53, insufficient resources (too many clients): the server is busy, try later. */
const BUSY_SQLSTATE = /^53/;

/** Maps a `pg` error to WORKERS_DATABASE_TIMEOUT / WORKERS_DATABASE_UNREACHABLE (retryable) or WORKERS_DATABASE_FAILED. */
export function toWorkersDatabaseError(error: unknown, doing: string): KefuError {
  if (isKefuError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // A lost connection (restart, failover, pg_terminate_backend) is retried on a new one.
  const transient =
    isConnectionLoss(error) || (typeof code === 'string' && BUSY_SQLSTATE.test(code)) || /timeout/i.test(message);
  const workersCode = isDatabaseTimeout(error)
    ? 'WORKERS_DATABASE_TIMEOUT'
    : transient
      ? 'WORKERS_DATABASE_UNREACHABLE'
      : 'WORKERS_DATABASE_FAILED';
  return syncWorkersError(workersCode, `${doing}: ${message}`, {
    cause: error,
    ...(typeof code === 'string' ? { details: { sqlState: code } } : {}),
  });
}
