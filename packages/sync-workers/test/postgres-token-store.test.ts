import { isKefuError, redactText } from '@kefu/core';
import { describeTokenStore, integrationServer } from '@kefu/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkerPool, PostgresTokenStore } from '../src/index.js';
import { dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

const postgres = await integrationServer('postgres');

describe.skipIf(!postgres.available)('PostgresTokenStore on PostgreSQL', () => {
  const table = `kefu_tokens_${uniqueSuffix()}`;
  let pools: pg.Pool[] = [];
  let stores: PostgresTokenStore[] = [];

  beforeAll(() => {
    // Two pools stand for two worker processes.
    pools = [openWorkerPool(postgres.url), openWorkerPool(postgres.url)];
    stores = pools.map((pool) => new PostgresTokenStore({ pool, table }));
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await dropTables(postgres.url, [table]);
  });

  it('given a token set by one process, when another reads it, then it gets the same token and expiry', async () => {
    const [a, b] = stores as [PostgresTokenStore, PostgresTokenStore];
    await a.set('wx-shared', { token: 'token-one-abcdefgh', expiresAt: 1_900_000_000_000 });
    expect(await b.get('wx-shared')).toEqual({ token: 'token-one-abcdefgh', expiresAt: 1_900_000_000_000 });
    expect(await b.get('wx-unknown')).toBeUndefined();
  });

  it('given a token read from the table, when it appears in a log line, then it is redacted', async () => {
    await queryOnce(
      postgres.url,
      `INSERT INTO "${table}" (app_id, token, expires_at) VALUES ('wx-raw', 'written-by-another-host-123', 1)`,
    );
    await stores[1]!.get('wx-raw');
    expect(redactText('calling with written-by-another-host-123')).not.toContain('written-by-another-host-123');
  });

  it('given a newer token, when invalidating the old one, then nothing is deleted (compare-and-delete)', async () => {
    const [a, b] = stores as [PostgresTokenStore, PostgresTokenStore];
    await a.set('wx-cad', { token: 'old-token-1234567', expiresAt: 1 });
    await b.set('wx-cad', { token: 'new-token-1234567', expiresAt: 2 });
    expect(await a.invalidate('wx-cad', 'old-token-1234567')).toBe(false);
    expect((await a.get('wx-cad'))?.token).toBe('new-token-1234567');
    expect(await a.invalidate('wx-cad', 'new-token-1234567')).toBe(true);
    expect(await b.get('wx-cad')).toBeUndefined();
  });

  it('given refreshers in two processes, when they all take the lock, then they never overlap and only the first refreshes', async () => {
    let inside = 0;
    let maxInside = 0;
    let refreshes = 0;
    const refresher = (store: PostgresTokenStore, n: number) =>
      store.withLock('wx-lock', async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        try {
          if (!(await store.get('wx-lock'))) {
            refreshes += 1;
            await new Promise((resolve) => setTimeout(resolve, 20));
            await store.set('wx-lock', { token: `fresh-token-${n}-xyz`, expiresAt: 3 });
          }
        } finally {
          inside -= 1;
        }
      });
    await Promise.all(Array.from({ length: 8 }, (_, n) => refresher(stores[n % 2] as PostgresTokenStore, n)));
    expect(maxInside).toBe(1);
    expect(refreshes).toBe(1);
  });

  it('given a lock already held in this async context, when taken again, then it is re-entrant', async () => {
    const store = stores[0] as PostgresTokenStore;
    const result = await store.withLock('wx-nested', () => store.withLock('wx-nested', async () => 'inner'));
    expect(result).toBe('inner');
  });

  it('given a malformed row, when reading it, then WORKERS_TOKEN_INVALID names the app id', async () => {
    await queryOnce(postgres.url, `INSERT INTO "${table}" (app_id, token, expires_at) VALUES ('wx-bad', '', 1)`);
    const error = await stores[0]!.get('wx-bad').catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('WORKERS_TOKEN_INVALID');
    expect((error as Error).message).toContain('wx-bad');
  });
});

describe('PostgresTokenStore options', () => {
  it('given a table name with a quote, when constructing, then WORKERS_CONFIG_INVALID says what is allowed', () => {
    expect(() => new PostgresTokenStore({ pool: {} as pg.Pool, table: 'bad"name' })).toThrow(/\[a-z_\]/);
  });
});

describe.skipIf(!postgres.available)('PostgresTokenStore conformance', () => {
  describeTokenStore('PostgresTokenStore', async () => {
    const table = `kefu_tokens_conf_${uniqueSuffix()}`;
    const pools: pg.Pool[] = [];
    return {
      // Each handle has its own pool: a worker process of its own.
      open: () => {
        const pool = openWorkerPool(postgres.url);
        pools.push(pool);
        return new PostgresTokenStore({ pool, table });
      },
      sharedAcrossHandles: true,
      teardown: async () => {
        for (const pool of pools) await pool.end();
        await dropTables(postgres.url, [table]);
      },
    };
  });
});
