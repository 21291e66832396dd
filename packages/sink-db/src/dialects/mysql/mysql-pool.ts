import { createRequire } from 'node:module';
import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult } from 'kysely';
import type { Pool, PoolConnection, QueryOptions } from 'mysql2';
import type { DatabaseSinkConfig } from '../../database-sink-config.js';

// `mysql2` is required when a MySQL sink opens its pool, not when the package loads.
const require = createRequire(import.meta.url);

/** The pool's timeouts and keepalive, from the sink config. */
export type MysqlPoolTimeouts = Pick<
  DatabaseSinkConfig,
  'poolSize' | 'connectTimeoutMs' | 'statementTimeoutMs' | 'keepAliveInitialDelayMs'
>;

/** Seconds the server keeps an idle session: a client hung mid-transaction releases its locks then. */
export function mysqlWaitTimeoutSeconds(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? Math.max(120, Math.ceil((2 * statementTimeoutMs) / 1000)) : 28_800;
}

/**
 * A `mysql2` pool for Kysely that survives its server: TCP keepalive, a connect timeout,
 * and a client-side timeout on every statement (mysql2 has no pool-wide one). A statement
 * that times out leaves its command on the connection, so the connection is destroyed and
 * the pool opens a new one. Every connection gets an 'error' listener: mysql2's own is a
 * `once`, and a second error on a dying connection would otherwise be unhandled.
 */
export function openMysqlPool(url: string, options: MysqlPoolTimeouts): MysqlPool {
  const { createPool } = require('mysql2') as typeof import('mysql2');
  const pool: Pool = createPool({
    uri: url,
    connectionLimit: options.poolSize,
    charset: 'UTF8MB4_UNICODE_CI',
    dateStrings: true,
    jsonStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: options.connectTimeoutMs,
    enableKeepAlive: true,
    keepAliveInitialDelay: options.keepAliveInitialDelayMs,
  });
  pool.on('connection', (connection) => {
    connection.on('error', () => undefined);
  });
  const timeoutMs = options.statementTimeoutMs;
  return {
    getConnection(callback) {
      pool.getConnection((error, connection) => {
        if (error) callback(error, timedConnection(connection, timeoutMs));
        else callback(null, timedConnection(connection, timeoutMs));
      });
    },
    end(callback) {
      pool.end(callback);
    },
  };
}

/** `connection` as Kysely uses it, each statement bounded by `timeoutMs` (0 = unbounded). */
function timedConnection(connection: PoolConnection, timeoutMs: number): MysqlPoolConnection {
  return {
    get config() {
      return connection.config;
    },
    get threadId() {
      return connection.threadId;
    },
    connect: (callback) => connection.connect(callback),
    destroy: () => connection.destroy(),
    release: () => connection.release(),
    query(
      sql: string,
      parameters: QueryOptions['values'],
      callback?: (error: unknown, result: MysqlQueryResult) => void,
    ) {
      if (timeoutMs === 0) {
        return connection.query(sql, parameters, (error: unknown, result: unknown) =>
          callback?.(error, result as MysqlQueryResult),
        );
      }
      // Our own timer, not mysql2's `timeout` option: mysql2 leaves that timer running when the
      // connection dies first, which kept a finished process alive for the whole timeout.
      let settled = false;
      const settle = (error: unknown, result?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        callback?.(error, result as MysqlQueryResult);
      };
      const timer = setTimeout(() => {
        settle(
          Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT', fatal: true }),
        );
        // The statement still occupies the connection: later ones would wait behind it.
        connection.destroy();
      }, timeoutMs);
      timer.unref();
      return connection.query(sql, parameters, (error: unknown, result: unknown) => settle(error, result));
    },
  };
}
