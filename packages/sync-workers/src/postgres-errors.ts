import { isKefuError, type KefuError } from '@kefu/core';
import { syncWorkersError } from './errors.js';

/** Node socket errors and PostgreSQL SQLSTATE classes that mean "the server is away, try later". */
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** 08 connection exceptions, 53 insufficient resources, 57P01–57P03 admin shutdown / cannot connect now. */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123])/;

/** Maps a `pg` error to WORKERS_DATABASE_UNREACHABLE (retryable) or WORKERS_DATABASE_FAILED. */
export function toWorkersDatabaseError(error: unknown, doing: string): KefuError {
  if (isKefuError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const transient =
    (typeof code === 'string' && (TRANSIENT_SOCKET_CODES.has(code) || TRANSIENT_SQLSTATE.test(code))) ||
    /Connection terminated|timeout/i.test(message);
  return syncWorkersError(
    transient ? 'WORKERS_DATABASE_UNREACHABLE' : 'WORKERS_DATABASE_FAILED',
    `${doing}: ${message}`,
    { cause: error, ...(typeof code === 'string' ? { details: { sqlState: code } } : {}) },
  );
}
