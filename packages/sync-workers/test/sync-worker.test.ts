import { createServer } from 'node:net';
import { isKefuError } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { DatabaseSink } from '@kefu/sink-db';
import { integrationServer } from '@kefu/testkit';
import { WechatMpProvider } from '@kefu/wechat-mp';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  openWorkerPool,
  PostgresTokenStore,
  SyncWorker,
  type SyncWorkerOptions,
  type WorkerEvent,
} from '../src/index.js';
import { dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

const postgres = await integrationServer('postgres');
const DAY_MS = 86_400_000;

describe.skipIf(!postgres.available)('SyncWorker in one process', () => {
  let emulator: RunningEmulator;
  let pool: pg.Pool;
  const created: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'worker', wechat: { accounts: 4, days: 2, recordsPerDay: 60 } });
    to = new Date(emulator.clock.now());
    from = new Date(to.getTime() - 2 * DAY_MS);
    pool = openWorkerPool(postgres.url);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    emulator.setFaults({});
  });
  afterAll(async () => {
    await pool.end();
    await emulator.stop();
    await dropTables(postgres.url, created);
  });

  /** A worker on fresh tables; returns it with its database sink and the events it emitted. */
  const setUp = (overrides: Partial<SyncWorkerOptions> = {}) => {
    const suffix = uniqueSuffix();
    const names = {
      work: `kefu_work_${suffix}`,
      records: `kefu_rec_${suffix}`,
      checkpoints: `kefu_cp_${suffix}`,
      tokens: `kefu_tok_${suffix}`,
    };
    created.push(...Object.values(names), `${names.records}_migrations`);
    const provider = new WechatMpProvider(
      {
        baseUrl: emulator.wechat.baseUrl,
        accounts: emulator.wechat.accounts.map(({ appId, secret }) => ({ appId, secret })),
        pageSize: 10,
      },
      { tokenStore: new PostgresTokenStore({ pool, table: names.tokens }) },
    );
    const database = new DatabaseSink({ url: postgres.url, table: names.records, checkpointTable: names.checkpoints });
    closers.push(
      () => provider.close(),
      () => database.close(),
    );
    const events: WorkerEvent[] = [];
    const worker = new SyncWorker({
      pool,
      job: 'unit',
      workerId: 'unit-worker',
      table: names.work,
      providers: [provider],
      sinks: [database],
      checkpoints: database,
      from,
      to,
      once: true,
      leaseSeconds: 3,
      heartbeatSeconds: 0.3,
      pollIntervalMs: 50,
      sync: { batchSize: 10 },
      onEvent: (event) => events.push(event),
      ...overrides,
    });
    return { worker, database, events, names };
  };

  const expectedTotal = () =>
    emulator.wechat.accounts.reduce(
      (sum, a) => sum + emulator.wechat.expectedRecords({ appId: a.appId, from, to }).length,
      0,
    );

  it('given once, when run, then every account is synced into the database and the worker ends by itself', async () => {
    const { worker, database, events } = setUp();
    const summary = await worker.run();
    expect(summary.stopped).toBe(false);
    expect(summary.runs.map((run) => run.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(await database.countRecords()).toBe(expectedTotal());
    expect(summary.records).toBe(expectedTotal());
    expect(events[0]).toEqual({ type: 'registered', accounts: 4, added: 4 });
    // A second pass finds nothing due: the accounts are scheduled resyncIntervalSeconds later.
    const again = await worker.table.list('unit');
    expect(again.every((row) => row.lastStatus === 'done' && row.nextDueAt.getTime() > Date.now())).toBe(true);
  });

  it('given another worker steals a lease mid-sync, when the worker notices, then it stops that account without releasing it', async () => {
    emulator.setFaults({ latencyMs: 100 });
    // An account with several pages of records, so the sync is surely still running when the lease is stolen.
    const busy = emulator.wechat.accounts.find(
      (a) => emulator.wechat.expectedRecords({ appId: a.appId, from, to }).length > 30,
    );
    const target = `wechat-mp/${busy?.appId}`;
    let stolen: Promise<unknown> | undefined;
    let resolveLost: (event: WorkerEvent) => void = () => {};
    const lost = new Promise<WorkerEvent>((resolve) => {
      resolveLost = resolve;
    });
    const { worker, names } = setUp({
      concurrency: 1,
      onEvent: (event) => {
        if (event.type === 'claimed' && event.target === target) {
          stolen = queryOnce(
            postgres.url,
            `UPDATE "${names.work}" SET lease_owner = 'thief' WHERE account = $1 AND lease_owner = 'unit-worker' RETURNING account`,
            [busy?.appId],
          );
        }
        if (event.type === 'lease-lost') resolveLost(event);
      },
    });
    const running = worker.run();
    expect(await lost).toMatchObject({ type: 'lease-lost', target });
    expect(await stolen).toHaveLength(1);
    worker.stop('test done');
    const summary = await running;
    expect(summary.runs.find((run) => run.target === target)?.status).toBe('lease-lost');
    const [row] = await queryOnce<{ lease_owner: string }>(
      postgres.url,
      `SELECT lease_owner FROM "${names.work}" WHERE account = $1`,
      [busy?.appId],
    );
    expect(row?.lease_owner).toBe('thief');
  });

  it('given a worker stopped mid-run, when it ends, then its accounts are released as stopped and due at once', async () => {
    emulator.setFaults({ latencyMs: 40 });
    const { worker, events, names } = setUp({ concurrency: 2 });
    const running = worker.run();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (events.some((event) => event.type === 'batch-committed')) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    worker.stop('SIGTERM');
    const summary = await running;
    expect(summary.stopped).toBe(true);
    expect(summary.runs.some((run) => run.status === 'stopped')).toBe(true);
    const rows = await queryOnce<{ lease_owner: string | null; last_status: string | null; due: boolean }>(
      postgres.url,
      `SELECT lease_owner, last_status, next_due_at <= now() AS due FROM "${names.work}"`,
    );
    expect(rows.every((row) => row.lease_owner === null)).toBe(true);
    expect(rows.filter((row) => row.last_status === 'stopped').every((row) => row.due)).toBe(true);
  });
});

describe('SyncWorker options', () => {
  const provider = {
    id: 'p',
    platform: 'p',
    capabilities: new Set(),
    accounts: () => ['a'],
    records: () => {
      throw new Error('unused');
    },
    close: async () => {},
  } as never;
  const sink = { id: 's', guarantee: 'at-least-once', write: async () => {}, close: async () => {} } as never;
  const base = {
    pool: { query: async () => ({}) } as never,
    job: 'job',
    providers: [provider],
    sinks: [sink],
    checkpoints: { load: async () => undefined, save: async () => {} },
    from: new Date(0),
  };

  it.each([
    [{ job: 'bad job' }, 'job'],
    [{ leaseSeconds: 1 }, 'leaseSeconds'],
    [{ leaseSeconds: 10, heartbeatSeconds: 10 }, 'heartbeatSeconds'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ table: 'Work-Table' }, 'table'],
  ])('given %j, when constructing, then WORKERS_CONFIG_INVALID names %s', (override, field) => {
    let caught: unknown;
    try {
      new SyncWorker({ ...base, ...override } as SyncWorkerOptions);
    } catch (error) {
      caught = error;
    }
    expect(isKefuError(caught) && caught.code).toBe('WORKERS_CONFIG_INVALID');
    expect((caught as Error).message).toContain(field);
  });

  it('given a PostgreSQL that refuses connections, when the worker starts, then it rejects with a retryable WORKERS_DATABASE_UNREACHABLE', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const pool = openWorkerPool(`postgres://kefu:pw-not-logged-123@127.0.0.1:${port}/none`);
    try {
      const error = await new SyncWorker({ ...base, pool } as SyncWorkerOptions).run().catch((e: unknown) => e);
      expect(isKefuError(error) && error.code).toBe('WORKERS_DATABASE_UNREACHABLE');
      expect(isKefuError(error) && error.retryable).toBe(true);
      expect((error as Error).message).not.toContain('pw-not-logged-123');
    } finally {
      await pool.end();
    }
  });

  it('given a MySQL URL, when opening the worker pool, then WORKERS_CONFIG_INVALID says PostgreSQL is needed', () => {
    expect(() => openWorkerPool('mysql://root@127.0.0.1:3306/test')).toThrow(/workers need PostgreSQL/);
  });

  it('given providers without accounts, when constructing, then WORKERS_NO_ACCOUNTS', () => {
    const empty = { ...(provider as object), accounts: () => [] } as never;
    expect(() => new SyncWorker({ ...base, providers: [empty] } as SyncWorkerOptions)).toThrow(/no provider accounts/);
  });
});
