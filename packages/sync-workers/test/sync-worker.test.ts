import { createServer } from 'node:net';
import { createJsonLogger, isKefuError } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { DatabaseSink } from '@kefu/sink-db';
import { integrationServer } from '@kefu/testkit';
import { WechatMpProvider } from '@kefu/wechat-mp';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  nextQuotaReset,
  openWorkerPool,
  PostgresTokenStore,
  SyncWorker,
  type SyncWorkerOptions,
  type WorkerEvent,
} from '../src/index.js';
import { dropSchemas, dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

const postgres = await integrationServer('postgres');
const DAY_MS = 86_400_000;

describe.skipIf(!postgres.available)('SyncWorker in one process', () => {
  let emulator: RunningEmulator;
  let pool: pg.Pool;
  const created: string[] = [];
  const schemas: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'worker', wechat: { accounts: 4, days: 2, recordsPerDay: 60 } });
    to = new Date(emulator.clock.now());
    from = new Date(to.getTime() - 2 * DAY_MS);
    pool = openWorkerPool(postgres.url, { max: 12 });
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    emulator.setFaults({});
  });
  afterAll(async () => {
    await pool.end();
    await emulator.stop();
    await dropTables(postgres.url, created);
    await dropSchemas(postgres.url, schemas);
  });

  /** A worker on fresh tables and a fresh pg-boss schema; returns it with its database sink and events. */
  const setUp = (overrides: Partial<SyncWorkerOptions> = {}, names = freshNames(), accounts = emulatorAccounts()) => {
    const provider = new WechatMpProvider(
      { baseUrl: emulator.wechat.baseUrl, accounts, pageSize: 10 },
      { tokenStore: new PostgresTokenStore({ pool, table: names.tokens }) },
    );
    const database = new DatabaseSink({ url: postgres.url, table: names.records, checkpointTable: names.checkpoints });
    closers.push(
      () => provider.close(),
      () => database.close(),
    );
    const events: Array<WorkerEvent & { at: number }> = [];
    const worker = new SyncWorker({
      pool,
      job: 'unit',
      workerId: 'unit-worker',
      table: names.work,
      schema: names.schema,
      providers: [provider],
      sinks: [database],
      checkpoints: database,
      from,
      to,
      once: true,
      pollIntervalMs: 500,
      superviseIntervalSeconds: 1,
      sync: { batchSize: 10 },
      onEvent: (event) => events.push({ ...event, at: Date.now() }),
      ...overrides,
    });
    return { worker, database, events, names };
  };
  const freshNames = () => {
    const suffix = uniqueSuffix();
    const names = {
      work: `kefu_work_${suffix}`,
      records: `kefu_rec_${suffix}`,
      checkpoints: `kefu_cp_${suffix}`,
      tokens: `kefu_tok_${suffix}`,
      schema: `kefu_jobs_${suffix}`,
    };
    created.push(names.work, names.records, names.checkpoints, names.tokens, `${names.records}_migrations`);
    schemas.push(names.schema);
    return names;
  };
  const emulatorAccounts = () => emulator.wechat.accounts.map(({ appId, secret }) => ({ appId, secret }));

  const expectedTotal = () =>
    emulator.wechat.accounts.reduce(
      (sum, a) => sum + emulator.wechat.expectedRecords({ appId: a.appId, from, to }).length,
      0,
    );

  it('given once, when run, then every account is synced into the database, its next sync queued, and the worker ends', async () => {
    const { worker, database, events } = setUp();
    const summary = await worker.run();
    expect(summary.stopped).toBe(false);
    expect(summary.runs.map((run) => run.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(await database.countRecords()).toBe(expectedTotal());
    expect(summary.records).toBe(expectedTotal());
    // pg-boss's maintenance and heartbeats ran without an error (a custom db must hand it every statement's rows).
    expect(events.filter((event) => event.type === 'poll-failed')).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'registered', accounts: 4, added: 4, scheduled: 4 });
    const rows = await worker.registry.list('unit');
    expect(rows.every((row) => row.lastStatus === 'done' && row.syncs === 1 && row.heldBy === null)).toBe(true);
    // The next sync of each account waits in pg-boss, resyncIntervalSeconds (300) from now.
    const jobs = await worker.queue.latestJobs();
    expect(jobs.size).toBe(4);
    for (const job of jobs.values()) {
      expect(job.state).toBe('created');
      expect(job.startAfter.getTime()).toBeGreaterThan(Date.now() + 250_000);
    }
  });

  it('given two workers on one job, when both run, then no account is synced by both at once and each exactly once', async () => {
    emulator.setFaults({ latencyMs: 20 });
    const names = freshNames();
    const first = setUp({ workerId: 'w1', concurrency: 2 }, names);
    const second = setUp({ workerId: 'w2', concurrency: 2 }, names);
    const [a, b] = await Promise.all([first.worker.run(), second.worker.run()]);
    const runs = [...a.runs, ...b.runs];
    expect(runs.map((run) => run.target).sort()).toEqual(
      emulator.wechat.accounts.map((account) => `wechat-mp/${account.appId}`).sort(),
    );
    expect(runs.every((run) => run.status === 'done')).toBe(true);
    expect(await first.database.countRecords()).toBe(expectedTotal());
    // Intervals [claimed, released] of one target never overlap across the two workers.
    const spans = [...first.events, ...second.events].filter((e) => e.type === 'claimed' || e.type === 'released');
    for (const target of new Set(spans.map((e) => ('target' in e ? e.target : '')))) {
      const mine = spans.filter((e) => 'target' in e && e.target === target).sort((x, y) => x.at - y.at);
      expect(mine.map((e) => e.type)).toEqual(['claimed', 'released']);
    }
  });

  it('given an account that keeps failing, when worked, then pg-boss retries it with growing back-off and dead-letters it with the last error', async () => {
    const accounts = emulatorAccounts().map((account, index) =>
      index === 0 ? { ...account, secret: 'wrong-secret-0000000000000000000' } : account,
    );
    const failing = `wechat-mp/${accounts[0]?.appId}`;
    let resolveDead: () => void = () => {};
    const dead = new Promise<void>((resolve) => {
      resolveDead = resolve;
    });
    const lines: Array<Record<string, unknown>> = [];
    const { worker, events, names } = setUp(
      {
        once: false,
        retryLimit: 2,
        retryDelaySeconds: 1,
        logger: createJsonLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) }),
        onEvent: (event) => {
          events.push({ ...event, at: Date.now() });
          if (event.type === 'dead-lettered') resolveDead();
        },
      },
      freshNames(),
      accounts,
    );
    const running = worker.run();
    await dead;
    worker.stop('test done');
    await running;
    const claims = events.filter((e) => e.type === 'claimed' && e.target === failing);
    expect(claims.map((e) => (e.type === 'claimed' ? e.attempt : 0))).toEqual([1, 2, 3]);
    // Back-off: retryDelay · 1..2 before the 2nd attempt, retryDelay · 2..4 before the 3rd (lower bounds only).
    expect((claims[1]?.at ?? 0) - (claims[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((claims[2]?.at ?? 0) - (claims[1]?.at ?? 0)).toBeGreaterThanOrEqual(1_950);
    expect(events.filter((e) => e.type === 'retry-scheduled' && e.target === failing)).toHaveLength(2);
    const [letter] = await queryOnce<{ data: { account: string }; error: string | null }>(
      postgres.url,
      `SELECT data, source_output->>'message' AS error FROM "${names.schema}".job WHERE name = $1`,
      [worker.queue.deadLetter],
    );
    expect(letter?.data.account).toBe(accounts[0]?.appId);
    expect(letter?.error).toMatch(/40125|secret|credential/i);
    const row = (await worker.registry.list('unit')).find((r) => `${r.providerId}/${r.account}` === failing);
    expect(row).toMatchObject({ state: 'dead', lastStatus: 'failed', consecutiveFailures: 3 });
    expect(row?.lastError).toBe(letter?.error);
    // Structured log lines (pino JSON) for every claim, retry and the dead letter, with worker and job bound.
    const about = (msg: string) => lines.filter((line) => line.msg === msg && line.target === failing);
    expect(about('account claimed')).toHaveLength(1);
    expect(about('account retry claimed').map((line) => line.attempt)).toEqual([2, 3]);
    expect(about('sync failed; retry scheduled').map((line) => line.attempt)).toEqual([1, 2]);
    expect(about('account dead-lettered')).toEqual([
      expect.objectContaining({
        level: 'error',
        worker: 'unit-worker',
        job: 'unit',
        attempts: 3,
        queue: 'kefu-sync.unit.dead',
      }),
    ]);
  }, 60_000);

  it('given a resync cron, when run, then each account is synced now and gets a pg-boss schedule instead of an interval job', async () => {
    const { worker } = setUp({ resyncCron: '*/15 * * * *', resyncTimeZone: 'Asia/Shanghai' });
    const summary = await worker.run();
    expect(summary.runs.map((run) => run.status)).toEqual(['done', 'done', 'done', 'done']);
    const schedules = await worker.queue.boss.getSchedules(worker.queue.name);
    expect(schedules).toHaveLength(4);
    for (const schedule of schedules)
      expect(schedule).toMatchObject({ cron: '*/15 * * * *', timezone: 'Asia/Shanghai' });
    // No interval job waits: the cron pass queues the next sync.
    expect([...(await worker.queue.latestJobs()).values()].every((job) => job.state === 'completed')).toBe(true);
    expect((await worker.registry.list('unit')).every((row) => row.syncs === 1)).toBe(true);
  });

  it('given WeChat answers 45009, when the account stops, then its next job waits for the quota reset (midnight Beijing time)', async () => {
    emulator.setFaults({ wechatDailyQuotaAfterCalls: 0 });
    const { worker } = setUp();
    const before = Date.now();
    const summary = await worker.run();
    expect(summary.runs.every((run) => run.status === 'quota-exhausted')).toBe(true);
    const reset = nextQuotaReset(new Date(before)).getTime() + 60_000;
    for (const job of (await worker.queue.latestJobs()).values()) {
      expect(job.state).toBe('created');
      expect(Math.abs(job.startAfter.getTime() - reset)).toBeLessThan(60_000);
    }
    expect(new Date(reset - 60_000).getUTCHours()).toBe(16);
  });

  it('given a lease-era work table, when a worker starts, then it keeps each account’s history and first schedules it at its stored next_due_at', async () => {
    const names = freshNames();
    const [account] = emulator.wechat.accounts;
    await queryOnce(
      postgres.url,
      `CREATE TABLE "${names.work}" (job text NOT NULL, provider_id text NOT NULL, account text NOT NULL,
        lease_owner text, lease_expires_at timestamptz, next_due_at timestamptz NOT NULL DEFAULT now(),
        last_synced_at timestamptz, last_status text, last_error text, last_records integer,
        syncs integer NOT NULL DEFAULT 0, claims integer NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (job, provider_id, account))`,
    );
    await queryOnce(
      postgres.url,
      `INSERT INTO "${names.work}" (job, provider_id, account, lease_owner, lease_expires_at, next_due_at,
        last_synced_at, last_status, last_error, syncs, claims)
       VALUES ('unit', 'wechat-mp', $1, 'old-worker', now() + interval '1 minute', now() + interval '2 hours',
        now() - interval '1 hour', 'failed', 'errcode 45009 earlier', 7, 9)`,
      [account?.appId],
    );
    const { worker } = setUp({}, names);
    const summary = await worker.run();
    expect(summary.runs).toHaveLength(3);
    const row = (await worker.registry.list('unit')).find((r) => r.account === account?.appId);
    expect(row).toMatchObject({
      state: 'active',
      heldBy: null,
      lastError: 'errcode 45009 earlier',
      syncs: 7,
      consecutiveFailures: 1,
    });
    const job = (await worker.queue.latestJobs()).get(`wechat-mp/${account?.appId}`);
    expect(job?.startAfter.getTime()).toBeGreaterThan(Date.now() + 100 * 60_000);
  });

  it('given a worker stopped mid-run, when it ends, then its accounts are queued as due at once', async () => {
    emulator.setFaults({ latencyMs: 40 });
    const { worker, events } = setUp({ concurrency: 2 });
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
    const rows = await worker.registry.list('unit');
    expect(rows.every((row) => row.heldBy === null)).toBe(true);
    const jobs = await worker.queue.latestJobs();
    for (const row of rows.filter((r) => r.lastStatus === 'stopped')) {
      const job = jobs.get(`${row.providerId}/${row.account}`);
      expect(job?.state).toBe('created');
      expect(job?.startAfter.getTime()).toBeLessThanOrEqual(Date.now());
    }
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
    [{ heartbeatSeconds: 5 }, 'heartbeatSeconds'],
    [{ retryDelaySeconds: 60, retryDelayMaxSeconds: 30 }, 'retryDelayMaxSeconds'],
    [{ resyncCron: 'every hour' }, 'resyncCron'],
    [{ schema: 'Jobs-Schema' }, 'schema'],
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
