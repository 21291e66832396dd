import { integrationServer } from '@kefu/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountLeaseTable, openWorkerPool } from '../src/index.js';
import { dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

const postgres = await integrationServer('postgres');

describe.skipIf(!postgres.available)('AccountLeaseTable on PostgreSQL', () => {
  const tableName = `kefu_work_${uniqueSuffix()}`;
  let pools: pg.Pool[] = [];
  let table: AccountLeaseTable;
  const accounts = Array.from({ length: 10 }, (_, i) => ({ providerId: 'wechat-mp', account: `wx${i}` }));

  beforeAll(async () => {
    pools = [openWorkerPool(postgres.url), openWorkerPool(postgres.url)];
    table = new AccountLeaseTable(pools[0] as pg.Pool, tableName);
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await dropTables(postgres.url, [tableName]);
  });

  it('given two migrations at once from two pools, when both run, then both succeed', async () => {
    const other = new AccountLeaseTable(pools[1] as pg.Pool, tableName);
    await Promise.all([table.migrate(), other.migrate()]);
    expect(await table.list('none')).toEqual([]);
  });

  it('given accounts registered twice, when listing, then each is stored once and due', async () => {
    expect(await table.register('lease', accounts)).toBe(10);
    expect(await table.register('lease', accounts)).toBe(0);
    const rows = await table.list('lease');
    expect(rows.map((row) => row.account)).toEqual(accounts.map((a) => a.account).sort());
    expect(rows.every((row) => row.leaseOwner === null && row.syncs === 0)).toBe(true);
  });

  it('given many concurrent claimers on two pools, when they claim, then no account is leased twice and all are leased', async () => {
    const claimers = Array.from({ length: 8 }, (_, i) =>
      new AccountLeaseTable(pools[i % 2] as pg.Pool, tableName).claim('lease', `claimer-${i}`, ['wechat-mp'], 3, 30),
    );
    const claimed = (await Promise.all(claimers)).flat();
    expect(claimed.map((c) => c.account).sort()).toEqual(accounts.map((a) => a.account).sort());
    expect(await table.claim('lease', 'late', ['wechat-mp'], 5, 30)).toEqual([]);
    expect(await table.hasPendingWork('lease', ['wechat-mp'])).toBe(true);
  });

  it('given an expired lease, when another worker claims, then it takes the account over and the old owner can neither renew nor release', async () => {
    await table.register('expiry', [{ providerId: 'p', account: 'a' }]);
    const [first] = await table.claim('expiry', 'dead-worker', ['p'], 1, 30);
    expect(first).toEqual({ providerId: 'p', account: 'a' });
    // Expire it the way time would (the database clock decides expiry).
    await queryOnce(
      postgres.url,
      `UPDATE "${tableName}" SET lease_expires_at = now() - interval '1 second' WHERE job = 'expiry'`,
    );
    const [takeover] = await table.claim('expiry', 'live-worker', ['p'], 1, 30);
    expect(takeover).toEqual({ providerId: 'p', account: 'a', previousOwner: 'dead-worker' });
    expect(await table.renew('expiry', 'dead-worker', 30)).toEqual([]);
    expect(await table.renew('expiry', 'live-worker', 30)).toEqual([{ providerId: 'p', account: 'a' }]);
    const release = { status: 'done' as const, records: 5, dueInSeconds: 300 };
    expect(await table.release('expiry', 'dead-worker', { providerId: 'p', account: 'a' }, release)).toBe(false);
    expect(await table.release('expiry', 'live-worker', { providerId: 'p', account: 'a' }, release)).toBe(true);
    const [row] = await table.list('expiry');
    expect(row).toMatchObject({ leaseOwner: null, lastStatus: 'done', lastRecords: 5, syncs: 1, claims: 2 });
    expect(row?.nextDueAt.getTime()).toBeGreaterThan(Date.now() + 200_000);
  });

  it('given every account synced and released, when asking for pending work, then there is none until they are due again', async () => {
    await table.register('pending', [{ providerId: 'p', account: 'only' }]);
    const [claim] = await table.claim('pending', 'w', ['p'], 1, 30);
    expect(await table.hasPendingWork('pending', ['p'])).toBe(true);
    await table.release('pending', 'w', claim!, { status: 'done', records: 0, dueInSeconds: 300 });
    expect(await table.hasPendingWork('pending', ['p'])).toBe(false);
    await table.register('pending', [{ providerId: 'p', account: 'failed' }]);
    const [failed] = await table.claim('pending', 'w', ['p'], 1, 30);
    await table.release('pending', 'w', failed!, { status: 'failed', records: 0, error: 'boom', dueInSeconds: 0 });
    expect(await table.hasPendingWork('pending', ['p'])).toBe(true);
    expect((await table.list('pending')).find((row) => row.account === 'failed')).toMatchObject({
      lastError: 'boom',
      syncs: 0,
    });
  });
});
