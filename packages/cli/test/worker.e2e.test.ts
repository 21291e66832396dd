import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { DatabaseSink } from '@kefu/sink-db';
import type { FleetStatus } from '@kefu/sync-workers';
import { integrationServer, runKillableChild, TEST_TOKEN_ENV } from '@kefu/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `kefu worker --once` as a subprocess (the built binary: `pnpm test` builds first)
// against the emulator and the real PostgreSQL server.

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const postgres = await integrationServer('postgres');

describe.skipIf(!postgres.available)(`kefu worker on PostgreSQL (${postgres.reason ?? postgres.url})`, () => {
  let emulator: RunningEmulator;
  let dir: string;
  const table = `kefu_cli_worker_${process.pid}_${Date.now() % 100_000}`;
  const job = `cli-e2e-${process.pid}-${Date.now()}`;
  const schema = `kefu_cli_jobs_${process.pid}_${Date.now() % 100_000}`;
  const registry = `${table}_accounts`;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'cli-worker', wechat: { accounts: 3, days: 2, recordsPerDay: 80 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-worker-'));
    const config = {
      providers: [
        {
          use: '@kefu/wechat-mp',
          id: 'wx',
          config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts },
        },
      ],
      sinks: [{ use: '@kefu/sink-db', id: 'pg', config: { url: postgres.url, table, checkpointTable: `${table}_cp` } }],
      worker: { table: registry, schema, superviseIntervalSeconds: 1 },
    };
    await writeFile(join(dir, 'kefu.json'), JSON.stringify(config));
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    for (const name of [table, `${table}_cp`, `${table}_migrations`, registry, 'kefu_wechat_tokens_unused'])
      await client.query(`DROP TABLE IF EXISTS ${name}`);
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  /** Runs `kefu worker …args` in the config's directory to its end (bounded at 60 s), with the fleet's token key. */
  const kefuWorker = (...args: string[]) =>
    runKillableChild(BIN, ['worker', ...args, '-c', 'kefu.json', '--job', job], { cwd: dir, env: TEST_TOKEN_ENV });
  const fleetStatus = async () => {
    const result = await kefuWorker('status');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as FleetStatus;
  };
  const accountOf = (status: FleetStatus, appId: string | undefined) =>
    status.accounts.find((account) => account.account === appId);

  it('given WeChat accounts and no KEFU_TOKEN_KEY, when started, then it refuses with KEFU_TOKEN_KEY_MISSING (exit 2) before syncing anything', async () => {
    // An empty key is an unset one.
    const result = await runKillableChild(
      BIN,
      ['worker', '-c', 'kefu.json', '--job', job, '--once', '--from', '3d', '--json'],
      { cwd: dir, env: { KEFU_TOKEN_KEY: '' } },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('KEFU_TOKEN_KEY_MISSING');
    expect(result.stderr).toContain('openssl rand -base64 32');
  });

  it('syncs every account once with --once and exits 0, the shared tokens encrypted at rest', async () => {
    const result = await kefuWorker('--once', '--from', '3d', '--json');
    expect(result.code, result.stderr).toBe(0);
    const released = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; status?: string })
      .filter((event) => event.type === 'released');
    expect(released).toHaveLength(3);
    expect(released.every((event) => event.status === 'done')).toBe(true);

    const sink = new DatabaseSink({ url: postgres.url, table, checkpointTable: `${table}_cp` });
    try {
      const now = new Date(emulator.clock.now());
      for (const account of emulator.wechat.accounts) {
        const expected = emulator.wechat.expectedRecords({
          appId: account.appId,
          from: new Date(now.getTime() - 3 * 86_400_000),
          to: now,
        }).length;
        expect(await sink.countRecords({ account: account.appId })).toBe(expected);
      }
    } finally {
      await sink.close();
    }
    // The fleet's token table holds each app id's token, encrypted (kefu-aes256gcm:v1:…), never the token itself.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const appIds = emulator.wechat.accounts.map((account) => account.appId);
      const { rows } = await client.query<{ token: string }>(
        'SELECT token FROM kefu_wechat_tokens WHERE app_id = ANY($1)',
        [appIds],
      );
      expect(rows).toHaveLength(appIds.length);
      for (const row of rows) expect(row.token).toMatch(/^kefu-aes256gcm:v1:[0-9a-f]{12}:/);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('then `kefu worker status` prints each account as JSON (stdout not a terminal): scheduled, synced once, no error', async () => {
    const status = await fleetStatus();
    expect(status.job).toBe(job);
    expect(status.accounts).toHaveLength(3);
    expect(status.byState).toEqual({ scheduled: 3 });
    for (const account of status.accounts) {
      expect(account).toMatchObject({
        state: 'scheduled',
        syncs: 1,
        lastStatus: 'done',
        lastError: null,
        heldBy: null,
      });
      expect(account.lagSeconds).toBeGreaterThanOrEqual(0);
      expect(Date.parse(account.nextDueAt ?? '')).toBeGreaterThan(Date.now() + 200_000);
    }
  }, 60_000);

  it('then pause, resume and retry change one account each, and the next --once run syncs exactly the due ones', async () => {
    const [paused, resumed, retried] = emulator.wechat.accounts.map((account) => account.appId);
    const pause = await kefuWorker('pause', `wx/${paused}`);
    expect(pause.code, pause.stderr).toBe(0);
    expect(JSON.parse(pause.stdout)).toMatchObject({ action: 'pause', account: { state: 'paused' } });
    expect((await kefuWorker('pause', `${resumed}`)).code).toBe(0);
    const resume = await kefuWorker('resume', `${resumed}`);
    expect(JSON.parse(resume.stdout)).toMatchObject({ action: 'resume', account: { state: 'due' } });
    const retry = await kefuWorker('retry', `wx/${retried}`);
    expect(JSON.parse(retry.stdout)).toMatchObject({ action: 'retry', account: { state: 'due', attempt: 1 } });
    const status = await fleetStatus();
    expect(status.byState).toEqual({ paused: 1, due: 2 });

    const again = await kefuWorker('--once', '--from', '3d', '--json');
    expect(again.code, again.stderr).toBe(0);
    const after = await fleetStatus();
    expect(accountOf(after, paused)).toMatchObject({ state: 'paused', syncs: 1 });
    expect(accountOf(after, resumed)).toMatchObject({ state: 'scheduled', syncs: 2 });
    expect(accountOf(after, retried)).toMatchObject({ state: 'scheduled', syncs: 2 });
  }, 150_000);

  it('given an unknown account, when retrying it, then exit 2 names the job and how to list accounts', async () => {
    const result = await kefuWorker('retry', 'wx/nope');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/WORKERS_ACCOUNT_UNKNOWN|no account wx\/nope/);
    expect(result.stderr).toContain('kefu worker status');
  }, 60_000);

  it('given --metrics-port 0, when the worker runs, then GET /metrics answers the worker counters in Prometheus form', async () => {
    const [paused] = emulator.wechat.accounts.map((account) => account.appId);
    expect((await kefuWorker('resume', `wx/${paused}`)).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BIN, 'worker', '-c', 'kefu.json', '--job', job, '--from', '3d', '--metrics-port', '0', '--json'],
      { cwd: dir, env: { ...process.env, ...TEST_TOKEN_ENV }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    let stderr = '';
    const url = await new Promise<string>((found) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const match = /metrics on (http:\S+)/.exec(stderr);
        if (match?.[1]) found(match[1]);
      });
    });
    await new Promise<void>((released) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"type":"released"')) released();
      });
    });
    const response = await fetch(url);
    const body = await response.text();
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(body).toMatch(/kefu_worker_syncs_total\{status="done"\} 1/);
    expect(body).toMatch(
      new RegExp(`kefu_records_in_total\\{provider="wx",account="${paused}",source="worker"\\} \\d+`),
    );
    expect(body).toContain('kefu_worker_claims_total{kind="first"} 1');
    expect(body).toContain('kefu_sync_lag_seconds{target="wx/');
  }, 60_000);
});
