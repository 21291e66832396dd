import { isConnectionLoss, isDatabaseTimeout, isDiskFull, isKefuError, type KefuError } from '@kefu/core';
import type { DatabaseDialectName } from './database-url.js';
import { type DatabaseSinkErrorCode, databaseSinkError } from './errors.js';

/** What a driver error carries, across pg, mysql2 and node:sqlite. */
interface DriverErrorShape {
  code?: unknown;
  errno?: unknown;
  errcode?: unknown;
  message?: unknown;
  constraint?: unknown;
}

function classifyPostgres(code: string): DatabaseSinkErrorCode | undefined {
  if (code === '40001' || code === '40P01' || code === '55P03') return 'SINK_DB_BUSY';
  if (code === '53100') return 'SINK_DB_DISK_FULL';
  // 08: connection exceptions; 57P0x: admin/crash shutdown, cannot connect now; 53: resources.
  if (code.startsWith('08') || /^57P0[1-4]$/.test(code) || code.startsWith('53')) return 'SINK_DB_UNAVAILABLE';
  if (code === '3D000') return 'SINK_DB_NOT_FOUND';
  if (code.startsWith('28')) return 'SINK_DB_AUTH_FAILED';
  if (code.startsWith('23')) return 'SINK_DB_CONSTRAINT';
  if (code.startsWith('22')) return 'SINK_DB_VALUE_INVALID';
  if (code.startsWith('42') || code === '3F000') return 'SINK_DB_SCHEMA';
  return undefined;
}

function classifyMysql(errno: number): DatabaseSinkErrorCode | undefined {
  if (errno === 1213 || errno === 1205) return 'SINK_DB_BUSY';
  // 1021 disk full, 1114 table full (its file system is).
  if (errno === 1021 || errno === 1114) return 'SINK_DB_DISK_FULL';
  // 1040 too many connections, 1053 shutdown, 2002/2003/2006/2013 connection lost or refused.
  if ([1040, 1053, 1927, 2002, 2003, 2006, 2013].includes(errno)) return 'SINK_DB_UNAVAILABLE';
  if (errno === 1049) return 'SINK_DB_NOT_FOUND';
  if (errno === 1044 || errno === 1045 || errno === 1698) return 'SINK_DB_AUTH_FAILED';
  // 1048 null, 1062 duplicate, 1451/1452 foreign keys, 3819/4025 check constraints, 3140 invalid JSON, 1644 trigger.
  if ([1048, 1062, 1451, 1452, 1644, 3140, 3819, 4025].includes(errno)) return 'SINK_DB_CONSTRAINT';
  if ([1366, 1292, 1406, 1264].includes(errno)) return 'SINK_DB_VALUE_INVALID';
  if ([1054, 1146, 1064, 1050, 1060, 1061, 1091].includes(errno)) return 'SINK_DB_SCHEMA';
  return undefined;
}

function classifySqlite(errcode: number): DatabaseSinkErrorCode | undefined {
  // Extended result codes carry the primary code in the low byte.
  const primary = errcode & 0xff;
  if (primary === 5 || primary === 6) return 'SINK_DB_BUSY';
  if (primary === 13) return 'SINK_DB_DISK_FULL';
  if (primary === 19) return 'SINK_DB_CONSTRAINT';
  if (primary === 14 || primary === 8 || primary === 23) return 'SINK_DB_AUTH_FAILED';
  if (primary === 10 || primary === 15) return 'SINK_DB_UNAVAILABLE';
  if (primary === 1 || primary === 11 || primary === 26) return 'SINK_DB_SCHEMA';
  if (primary === 18 || primary === 20 || primary === 25) return 'SINK_DB_VALUE_INVALID';
  return undefined;
}

/** Maps a driver error to this package's catalogue; KefuErrors pass through unchanged. */
export function toDatabaseSinkError(
  error: unknown,
  context: { dialect: DatabaseDialectName; operation: string; target: string },
): KefuError {
  if (isKefuError(error)) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as DriverErrorShape;
  const driverCode = typeof shape.code === 'string' ? shape.code : undefined;
  let code: DatabaseSinkErrorCode | undefined;
  // A hung statement or connection attempt (a timeout fired), then a lost connection
  // (server restart, failover, pg_terminate_backend, KILL): both retried on a new one.
  if (isDatabaseTimeout(error)) code = 'SINK_DB_TIMEOUT';
  else if (isConnectionLoss(error)) code = 'SINK_DB_UNAVAILABLE';
  else if (context.dialect === 'postgres' && driverCode) code = classifyPostgres(driverCode);
  else if (context.dialect === 'mysql' && typeof shape.errno === 'number') code = classifyMysql(shape.errno);
  else if (context.dialect === 'sqlite' && typeof shape.errcode === 'number') code = classifySqlite(shape.errcode);
  if (code === undefined && isDiskFull(error)) code = 'SINK_DB_DISK_FULL';
  const message = error instanceof Error ? error.message : String(error);
  const detail = driverCode ?? (typeof shape.errcode === 'number' ? `SQLITE_${shape.errcode}` : undefined);
  return databaseSinkError(
    code ?? 'SINK_DB_FAILED',
    `${code === 'SINK_DB_DISK_FULL' ? 'disk full: ' : ''}${context.operation} on ${context.target} failed${detail ? ` (${detail})` : ''}: ${message}`,
    {
      cause: error,
      details: {
        dialect: context.dialect,
        ...(detail ? { driverCode: detail } : {}),
        ...(typeof shape.errno === 'number' ? { errno: shape.errno } : {}),
        ...(typeof shape.constraint === 'string' ? { constraint: shape.constraint } : {}),
      },
    },
  );
}
