import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { DatabaseSink } from '@kefu/sink-db';
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
    };
    await writeFile(join(dir, 'kefu.json'), JSON.stringify(config));
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    for (const name of [table, `${table}_cp`, `${table}_migrations`])
      await client.query(`DROP TABLE IF EXISTS ${name}`);
    await client.end();
  });

  /** Runs `kefu worker --once` with `env` added to this process's environment (bounded at 60 s). */
  const runWorker = (env: Record<string, string>) =>
    runKillableChild(BIN, ['worker', '-c', 'kefu.json', '--job', job, '--once', '--from', '3d', '--json'], {
      cwd: dir,
      env,
    });

  it('given WeChat accounts and no KEFU_TOKEN_KEY, when started, then it refuses with KEFU_TOKEN_KEY_MISSING (exit 2) before syncing anything', async () => {
    // An empty key is an unset one.
    const result = await runWorker({ KEFU_TOKEN_KEY: '' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('KEFU_TOKEN_KEY_MISSING');
    expect(result.stderr).toContain('openssl rand -base64 32');
  });

  it('syncs every account once with --once and exits 0, the shared tokens encrypted at rest', async () => {
    const result = await runWorker({ ...TEST_TOKEN_ENV });
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
  });
});
