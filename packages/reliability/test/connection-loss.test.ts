import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { integrationServer, startTcpProxy, TEST_TOKEN_ENV } from '@kefu/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPackagesBuilt } from './support/child-runs.js';
import { beijingMidnightDaysAgo, expectedWechatIds } from './support/wechat-ground-truth.js';

/**
 * Connection loss: `kefu sync` (the built CLI, in a child process) syncs two WeChat
 * accounts from the emulator into a real database while the test kills the sink's server
 * connections four times — `pg_terminate_backend` on PostgreSQL (what a restart or a
 * failover does to clients), `KILL` on MariaDB — and the worker's lease and token
 * connections during `kefu worker`. The process must not crash: every lost connection is
 * a retryable error, retried on a new connection; the run exits 0 with every record of the
 * emulator's ground truth in the table, once.
 */

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../../cli/dist/bin.js');
const NOW = Date.UTC(2026, 3, 20, 4, 0, 0);
const from = beijingMidnightDaysAgo(NOW, 3);
const to = beijingMidnightDaysAgo(NOW, 0);
/** Kill when the table holds this share of the expected records. */
const KILL_AT = [0.1, 0.3, 0.5, 0.7];

const postgres = await integrationServer('postgres');
const mysql = await integrationServer('mysql');
const nats = await integrationServer('nats');
let emulator: RunningEmulator;
let scratch: string;
let expected: string[];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  assertPackagesBuilt(['core', 'cli', 'emulator', 'wechat-mp', 'sink-db', 'sync-workers']);
  // ≈ 3 000 getmsglist records per account and day: ≈ 18 000 records in small batches.
  emulator = await startEmulator({
    seed: 'connection-loss',
    now: NOW,
    wechat: { accounts: 2, days: 4, recordsPerDay: 5_000 },
  });
  scratch = mkdtempSync(join(tmpdir(), 'kefu-connection-loss-'));
  expected = emulator.wechat.accounts.flatMap((account) => expectedWechatIds(emulator, account.appId, from, to)).sort();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await emulator?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `kefu` with `args` in `cwd`; `done` settles when it exits. */
function startCli(args: string[], cwd: string): { done: Promise<CliRun>; finished: () => boolean } {
  let exited = false;
  const done = new Promise<CliRun>((settle, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // `kefu worker` stores WeChat tokens encrypted: it needs the key.
      env: { ...process.env, ...TEST_TOKEN_ENV },
    });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      exited = true;
      clearTimeout(guard);
      settle({ code, stdout, stderr });
    });
  });
  return { done, finished: () => exited };
}

/**
 * While the run lasts: each time the table reaches the next share of the expected records,
 * kill the sink's connections. Polls the table (every 20 ms): the kills follow the run's
 * progress, not the clock. Returns the server connections killed.
 */
async function killAlongTheWay(
  run: { finished: () => boolean },
  rows: () => Promise<number>,
  killConnections: () => Promise<number>,
): Promise<number> {
  let killed = 0;
  for (const share of KILL_AT) {
    while (!run.finished() && (await rows().catch(() => 0)) < share * expected.length) {
      await new Promise((next) => setTimeout(next, 20));
    }
    if (run.finished()) break;
    killed += await killConnections();
  }
  return killed;
}

/** The WeChat provider of every run: both accounts, small pages. */
function wechatProvider() {
  return {
    use: '@kefu/wechat-mp',
    id: 'wx',
    config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts, pageSize: 200 },
  };
}

/** The config of a run into one database sink that also keeps the checkpoints. */
function writeConfig(name: string, url: string, table: string, sinkOptions: Record<string, unknown> = {}): string {
  const path = join(scratch, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      providers: [wechatProvider()],
      sinks: [
        { use: '@kefu/sink-db', id: 'db', config: { url, table, checkpointTable: `${table}_cp`, ...sinkOptions } },
      ],
      checkpoints: { use: 'sink', sink: 'db' },
      sync: { batchSize: 100, concurrency: 2 },
    }),
  );
  return path;
}

const syncArgs = (config: string) => [
  'sync',
  '-c',
  config,
  '--from',
  from.toISOString(),
  '--to',
  to.toISOString(),
  '--json',
];

/** No crash: no unhandled error event, no stack trace, and a summary line. */
function expectCleanEnd(run: CliRun): void {
  const output = `${run.stdout}\n${run.stderr}`;
  expect(output).not.toMatch(/Unhandled|unhandled 'error' event|^\s+at .+:\d+:\d+\)?$/m);
}

describe.skipIf(!postgres.available)(
  `PostgreSQL connections terminated during a sync (${postgres.reason ?? 'real server'})`,
  () => {
    const table = `conn_loss_pg_${process.pid}_${Date.now() % 100_000}`;
    const applicationName = `kefu-conn-loss-${process.pid}`;
    let admin: pg.Client;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      cleanups.push(async () => {
        for (const name of [table, `${table}_cp`, `${table}_migrations`, `${table}_work`, `${table}_tokens`])
          await admin.query(`DROP TABLE IF EXISTS "${name}"`);
        await admin.end();
      });
    });

    const url = () => {
      const parsed = new URL(postgres.url);
      parsed.searchParams.set('application_name', applicationName);
      return parsed.toString();
    };
    const rows = async () => Number((await admin.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n);
    const terminate = async () =>
      (
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
          [applicationName],
        )
      ).rowCount ?? 0;

    it('given `kefu sync` into PostgreSQL, when its backends are terminated four times mid-run, then it exits 0 and the table equals the ground truth', async () => {
      const config = writeConfig('postgres', url(), table);
      const run = startCli(syncArgs(config), scratch);
      const killed = await killAlongTheWay(run, rows, terminate);
      const result = await run.done;
      expectCleanEnd(result);
      expect(killed, 'connections terminated while the sync ran').toBeGreaterThanOrEqual(4);
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const summary = JSON.parse(result.stdout) as { targets: Array<{ status: string; retries: number }> };
      expect(summary.targets.map((target) => target.status)).toEqual(['done', 'done']);
      // The faults were felt: retried by the pipeline (a summary retry) or inside the sink (its warn log).
      const pipelineRetries = summary.targets.reduce((sum, target) => sum + target.retries, 0);
      const sinkRetries = result.stderr.split('database unreachable or hung, retrying').length - 1;
      expect(pipelineRetries + sinkRetries).toBeGreaterThan(0);
      const ids = (await admin.query<{ id: string }>(`SELECT id FROM "${table}"`)).rows.map((row) => row.id).sort();
      expect(ids.length).toBe(expected.length);
      expect(ids).toEqual(expected);
    }, 180_000);

    it('given `kefu sync` into PostgreSQL through a network that stops forwarding mid-run, when it forwards again, then the hung connections time out, are retried, and it exits 0 with the ground truth', async () => {
      const server = new URL(postgres.url);
      const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      cleanups.push(() => proxy.close());
      const proxied = new URL(postgres.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      const stalledTable = `${table}_stall`;
      cleanups.unshift(async () => {
        for (const name of [stalledTable, `${stalledTable}_cp`, `${stalledTable}_migrations`])
          await admin.query(`DROP TABLE IF EXISTS "${name}"`);
      });
      const config = writeConfig('postgres-stall', proxied.href, stalledTable, {
        statementTimeoutMs: 1000,
        connectTimeoutMs: 1000,
        outageRetryMs: 120_000,
      });
      const run = startCli(syncArgs(config), scratch);
      const stalledRows = async () =>
        Number((await admin.query(`SELECT count(*) AS n FROM "${stalledTable}"`)).rows[0].n);
      while (!run.finished() && (await stalledRows().catch(() => 0)) < 0.4 * expected.length) {
        await new Promise((next) => setTimeout(next, 20));
      }
      proxy.stall();
      const acceptedAtStall = proxy.accepted;
      // The sync noticed: its hung connections timed out and it is trying new ones (which hang too).
      while (!run.finished() && proxy.accepted < acceptedAtStall + 2) await new Promise((next) => setTimeout(next, 20));
      proxy.resume();
      const result = await run.done;
      expectCleanEnd(result);
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      expect(result.stderr).toContain('SINK_DB_TIMEOUT');
      const ids = (await admin.query<{ id: string }>(`SELECT id FROM "${stalledTable}"`)).rows
        .map((row) => row.id)
        .sort();
      expect(ids).toEqual(expected);
    }, 180_000);

    it('given `kefu worker` on PostgreSQL, when the backends of its lease, token and sink connections are terminated four times, then it exits 0 and the table equals the ground truth', async () => {
      const workerTable = `${table}_w`;
      cleanups.push(async () => {
        for (const name of [workerTable, `${workerTable}_cp`, `${workerTable}_migrations`])
          await admin.query(`DROP TABLE IF EXISTS "${name}"`);
      });
      const config = writeConfig('worker', url(), workerTable);
      const job = `conn-loss-${process.pid}-${Date.now()}`;
      const run = startCli(
        [
          'worker',
          '-c',
          config,
          '--job',
          job,
          '--once',
          '--from',
          from.toISOString(),
          '--to',
          to.toISOString(),
          '--json',
        ],
        scratch,
      );
      const workerRows = async () =>
        Number((await admin.query(`SELECT count(*) AS n FROM "${workerTable}"`)).rows[0].n);
      const killed = await killAlongTheWay(run, workerRows, terminate);
      const result = await run.done;
      expectCleanEnd(result);
      expect(killed, 'connections terminated while the worker ran').toBeGreaterThanOrEqual(4);
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const ids = (await admin.query<{ id: string }>(`SELECT id FROM "${workerTable}"`)).rows
        .map((row) => row.id)
        .sort();
      expect(ids.length).toBe(expected.length);
      expect(ids).toEqual(expected);
    }, 180_000);
  },
);

describe.skipIf(!mysql.available)(`MariaDB connections killed during a sync (${mysql.reason ?? 'real server'})`, () => {
  const table = `conn_loss_my_${process.pid}_${Date.now() % 100_000}`;
  // A user of its own, so the test kills only this run's connections.
  const user = `kefu_loss_${process.pid}`;
  let admin: Awaited<ReturnType<typeof createConnection>>;
  let sinkUrl: string;

  beforeAll(async () => {
    admin = await createConnection({ uri: mysql.url });
    const database = new URL(mysql.url).pathname.slice(1) || 'test';
    await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'%'`);
    await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'localhost'`);
    await admin.query(`GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`);
    await admin.query(`GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost'`);
    const parsed = new URL(mysql.url);
    parsed.username = user;
    parsed.password = '';
    sinkUrl = parsed.toString();
    cleanups.push(async () => {
      for (const name of [table, `${table}_cp`, `${table}_migrations`])
        await admin.query(`DROP TABLE IF EXISTS \`${name}\``);
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.query(`DROP USER IF EXISTS '${user}'@'localhost'`);
      await admin.end();
    });
  });

  const rows = async () => {
    const [result] = await admin.query(`SELECT count(*) AS n FROM \`${table}\``);
    return Number((result as Array<{ n: number }>)[0]?.n ?? 0);
  };
  const kill = async () => {
    const [result] = await admin.query('SELECT id FROM information_schema.processlist WHERE user = ?', [user]);
    let killed = 0;
    for (const { id } of result as Array<{ id: number }>) {
      // A connection may have closed on its own meanwhile.
      await admin.query(`KILL ${Number(id)}`).then(
        () => {
          killed += 1;
        },
        () => undefined,
      );
    }
    return killed;
  };

  it('given `kefu sync` into MariaDB, when its connections are killed four times mid-run, then it exits 0 and the table equals the ground truth', async () => {
    const config = writeConfig('mysql', sinkUrl, table);
    const run = startCli(syncArgs(config), scratch);
    const killed = await killAlongTheWay(run, rows, kill);
    const result = await run.done;
    expectCleanEnd(result);
    expect(killed, 'connections killed while the sync ran').toBeGreaterThanOrEqual(4);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const [stored] = await admin.query(`SELECT id FROM \`${table}\``);
    const ids = (stored as Array<{ id: string }>).map((row) => row.id).sort();
    expect(ids.length).toBe(expected.length);
    expect(ids).toEqual(expected);
  }, 180_000);
});

describe.skipIf(!nats.available)(`NATS connection dropped during a sync (${nats.reason ?? 'real server'})`, () => {
  // nats-server offers no way to end one client's connection without a monitoring port or
  // a system account (the test server has neither): a loopback TCP proxy between kefu and
  // the real server drops the connection instead — a real socket close, as a network
  // failure or a server restart gives the client.
  const stream = `KEFU_CONN_LOSS_${process.pid}`;
  const subjectPrefix = `kefu_conn_loss_${process.pid}`;

  const messages = async (): Promise<number> => {
    const connection = await connectNats({ servers: nats.url });
    try {
      const manager = await jetstreamManager(connection);
      return (await manager.streams.info(stream)).state.messages;
    } finally {
      await connection.close();
    }
  };

  it('given `kefu sync` into NATS JetStream, when its connection is dropped four times mid-run, then it exits 0 and the stream holds every record once', async () => {
    const server = new URL(nats.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 4222) });
    cleanups.push(
      () => proxy.close(),
      async () => {
        const connection = await connectNats({ servers: nats.url });
        await (await jetstreamManager(connection)).streams.delete(stream).catch(() => false);
        await connection.close();
      },
    );
    const config = join(scratch, 'nats.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [wechatProvider()],
        sinks: [
          {
            use: '@kefu/sink-nats',
            id: 'broker',
            config: { servers: proxy.url, stream, subjectPrefix, publishTimeoutMs: 2000 },
          },
        ],
        checkpoints: { use: 'file', path: join(scratch, 'nats-checkpoints.json') },
        sync: { batchSize: 100, concurrency: 2 },
      }),
    );
    const run = startCli(syncArgs(config), scratch);
    const killed = await killAlongTheWay(run, messages, async () => {
      await proxy.down();
      await proxy.up();
      return 1;
    });
    const result = await run.done;
    expectCleanEnd(result);
    expect(killed, 'connections dropped while the sync ran').toBe(4);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const connection = await connectNats({ servers: nats.url });
    try {
      const manager = await jetstreamManager(connection);
      const info = await manager.streams.info(stream);
      const ids: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const message = await manager.streams.getMessage(stream, { seq });
        if (message) ids.push(message.header.get('Kefu-Record-Id'));
      }
      expect(ids.length).toBe(expected.length);
      expect(ids.sort()).toEqual(expected);
    } finally {
      await connection.close();
    }
  }, 180_000);
});
