import { coreError, isConnectionLoss, isDatabaseTimeout } from '@kefu/core';
import { describe, expect, it } from 'vitest';

const withCode = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('lost connections, recognized for every driver', () => {
  it('given what pg, mysql2, kysely and sockets report when a server ends a session, then each is a connection loss', () => {
    const lost = [
      withCode('terminating connection due to administrator command', { code: '57P01' }),
      withCode('the database system is shutting down', { code: '57P03' }),
      withCode('connection failure', { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      withCode('read ECONNRESET', { code: 'ECONNRESET' }),
      withCode('Connection lost: The server closed the connection.', { code: 'PROTOCOL_CONNECTION_LOST' }),
      new Error("Can't add new command when connection is in closed state"),
      withCode('Connection was killed', { errno: 1927 }),
      withCode('Lost connection to server during query', { errno: 2013 }),
      new AggregateError([withCode('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })]),
      coreError('KEFU_SINK_FAILED', 'sink failed', { cause: new Error('Connection terminated unexpectedly') }),
    ];
    for (const error of lost) expect(isConnectionLoss(error), String(error)).toBe(true);
  });

  it('given constraint, syntax and value errors, then none is a connection loss', () => {
    const kept = [
      withCode('duplicate key value violates unique constraint', { code: '23505' }),
      withCode('syntax error at or near "x"', { code: '42601' }),
      withCode("Data too long for column 'text'", { errno: 1406 }),
      new Error('boom'),
      'a string',
      undefined,
    ];
    for (const error of kept) expect(isConnectionLoss(error), String(error)).toBe(false);
  });
});

describe('database timeouts, recognized for every driver', () => {
  it('given what pg, pg-pool, PostgreSQL, mysql2 and MariaDB report when a timeout fires, then each is a timeout', () => {
    const timedOut = [
      new Error('Query read timeout'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      withCode('canceling statement due to statement timeout', { code: '57014' }),
      withCode('Query inactivity timeout', { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }),
      withCode('connect ETIMEDOUT', { code: 'ETIMEDOUT' }),
      withCode('Query execution was interrupted (max_statement_time exceeded)', { errno: 1969 }),
    ];
    for (const error of timedOut) expect(isDatabaseTimeout(error), String(error)).toBe(true);
  });

  it('given a lost connection or a constraint error, then it is not a timeout', () => {
    for (const error of [
      new Error('Connection terminated unexpectedly'),
      withCode('canceling statement due to user request', { code: '57014' }),
      withCode('duplicate key', { code: '23505' }),
    ]) {
      expect(isDatabaseTimeout(error), String(error)).toBe(false);
    }
  });
});
