import { isKefuError } from '@kefu/core';
import { integrationServer, startTcpProxy, type TcpProxy } from '@kefu/testkit';
import type pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openWorkerPool, PostgresTokenStore } from '../src/index.js';
import { dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

/**
 * The shared token store when its database misbehaves, on a real PostgreSQL: the session
 * holding the fleet-wide token lock terminated while the refresh runs (`pg_terminate_backend`
 * lands on a checked-out client with no query in flight: pg emits 'error' on the client
 * itself, which crashed the worker before), and a network that stops forwarding.
 */

const postgres = await integrationServer('postgres');

async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isKefuError(error) ? error.code : `not a KefuError: ${String(error)}`;
  }
  return 'resolved';
}

describe.skipIf(!postgres.available)('PostgresTokenStore under database faults', () => {
  const tables: string[] = [];
  const pools: pg.Pool[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    for (const proxy of proxies) proxy.resume();
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  afterAll(() => dropTables(postgres.url, tables));

  function openStore(url: string, options: Parameters<typeof openWorkerPool>[1] = {}): PostgresTokenStore {
    const table = `kefu_tokens_faults_${uniqueSuffix()}`;
    tables.push(table);
    const pool = openWorkerPool(url, options);
    pools.push(pool);
    return new PostgresTokenStore({ pool, table });
  }

  it('given a refresh holding the token lock, when its session is terminated, then the process survives, the lock fails typed and retryable, and the next lock works', async () => {
    const application = `kefu_lock_${uniqueSuffix()}`;
    const url = new URL(postgres.url);
    url.searchParams.set('application_name', application);
    const store = openStore(url.href);
    const failed = await errorCodeOf(
      store.withLock('wx-app', async () => {
        const ended = await queryOnce<{ ended: boolean }>(
          postgres.url,
          'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1',
          [application],
        );
        expect(ended.length).toBeGreaterThan(0);
        await store.set('wx-app', { token: 'refreshed-during-termination', expiresAt: 1_900_000_000_000 });
        return 'refreshed';
      }),
    );
    expect(failed).toBe('WORKERS_DATABASE_UNREACHABLE');
    // The token the refresh stored (through another pooled connection) is there, and the lock is free again.
    expect(await store.get('wx-app')).toEqual({ token: 'refreshed-during-termination', expiresAt: 1_900_000_000_000 });
    expect(await store.withLock('wx-app', async () => 'again')).toBe('again');
  });

  it('given a network that stops forwarding, when the store is read, then it fails with WORKERS_DATABASE_TIMEOUT instead of hanging, and works once the network forwards again', async () => {
    const server = new URL(postgres.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    proxies.push(proxy);
    const url = new URL(postgres.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const store = openStore(url.href, { statementTimeoutMs: 800, connectTimeoutMs: 800 });
    await store.set('wx-app', { token: 'token-before-the-stall', expiresAt: 1_900_000_000_000 });
    proxy.stall();
    expect(await errorCodeOf(store.get('wx-app'))).toBe('WORKERS_DATABASE_TIMEOUT');
    expect(await errorCodeOf(store.withLock('wx-app', async () => 'never'))).toBe('WORKERS_DATABASE_TIMEOUT');
    proxy.resume();
    expect(await store.get('wx-app')).toEqual({ token: 'token-before-the-stall', expiresAt: 1_900_000_000_000 });
  });
});
