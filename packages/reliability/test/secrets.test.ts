import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { createJsonLogger, createKefu, isKefuError } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { plugin as databaseSink } from '@kefu/sink-db';
import { plugin as fileSink } from '@kefu/sink-file';
import { plugin as httpSink } from '@kefu/sink-http';
import { integrationServer } from '@kefu/testkit';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { YoumiProvider, plugin as youmi } from '@kefu/youmi';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Secrets: a full sync (runtime API and `kefu sync` with `${ENV}` secrets) with
 * recognizable secrets as the Youmi client secret, the HTTP sink's HMAC key and the
 * PostgreSQL password (trust auth accepts any), plus the emulator's own WeChat app secret
 * (the emulator derives it from its seed and cannot be given one). None may appear in a
 * log line, an error message, stdout, or any file written (records, dead letters, checkpoints).
 */
const YOUMI_SECRET = 'SECRET-CANARY-YOUMI-1234567890';
const HMAC_KEY = 'SECRET-CANARY-HMAC-1234567890';
const PG_PASSWORD = 'SECRET-CANARY-PG-1234567890';
const WRONG_YOUMI_SECRET = 'SECRET-CANARY-WRONG-1234567890';

const postgres = await integrationServer('postgres');
let emulator: RunningEmulator;
let scratch: string;
let webhook: Server;
let webhookUrl: string;
/** The webhook answers 200 while true, 500 otherwise (to produce dead letters and error logs). */
let webhookHealthy = true;
const tables: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 'secrets',
    wechat: { accounts: 1, days: 3, recordsPerDay: 300 },
    youmi: { wechatIds: [10001], fansPerAccount: 5, clientSecret: YOUMI_SECRET },
  });
  scratch = mkdtempSync(join(tmpdir(), 'kefu-secrets-'));
  webhook = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(webhookHealthy ? 200 : 500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await emulator?.stop();
  webhook.closeAllConnections();
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
  if (postgres.available) {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    for (const table of tables) {
      for (const name of [table, `${table}_cp`, `${table}_migrations`])
        await client.query(`DROP TABLE IF EXISTS "${name}"`);
    }
    await client.end();
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** The database URL with the canary password (PostgreSQL when reachable, else SQLite, where only the file path is given). */
function databaseUrl(): string {
  if (!postgres.available) return `sqlite://${join(scratch, 'records.db')}`;
  const url = new URL(postgres.url);
  url.password = PG_PASSWORD;
  return url.toString();
}

/** Every secret of the run. */
function secrets(): string[] {
  return [emulator.wechat.accounts[0]!.secret, YOUMI_SECRET, HMAC_KEY, PG_PASSWORD, WRONG_YOUMI_SECRET];
}

/** Text of every file under `dir` (binary files read as latin1, so ASCII secrets still match). */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  const files: Array<{ path: string; text: string }> = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) walk(child);
      else files.push({ path: child, text: readFileSync(child).toString('latin1') });
    }
  };
  walk(dir);
  return files;
}

/** Fails naming the place where a secret leaked. */
function expectNoSecrets(where: string, text: string): void {
  for (const secret of secrets()) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
}

/** A `${NAME}` reference the config loader replaces with the environment variable. */
const envReference = (name: string) => `\${${name}}`;

class CapturedStream extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('secrets never leak', () => {
  it('given recognizable secrets, when a full sync runs (and its webhook then fails), then no log line, error or output file contains one', async () => {
    const lines: string[] = [];
    const table = `secrets_${process.pid}_${Date.now()}`;
    tables.push(table);
    const account = emulator.wechat.accounts[0]!;
    const dir = join(scratch, 'runtime');
    const kefu = await createKefu({
      logger: createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }),
      providers: [
        { use: wechatMp, id: 'wx', config: { accounts: [account], baseUrl: emulator.wechat.baseUrl } },
        {
          use: youmi,
          id: 'ym',
          config: {
            baseUrl: emulator.youmi.baseUrl,
            tokenUrl: emulator.youmi.tokenUrl,
            clientId: emulator.youmi.clientId,
            clientSecret: YOUMI_SECRET,
            wechatIds: [10001],
          },
        },
      ],
      sinks: [
        { use: fileSink, id: 'files', config: { dir: join(dir, 'records') } },
        {
          use: httpSink,
          id: 'hook',
          config: {
            url: webhookUrl,
            secret: HMAC_KEY,
            deadLetterPath: join(dir, 'dead-letters.jsonl'),
            retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
          },
        },
        { use: databaseSink, id: 'db', config: { url: databaseUrl(), table } },
      ],
      checkpoints: { use: 'file', path: join(dir, 'checkpoints.json') },
    });
    const now = emulator.clock.now();
    try {
      const first = await kefu.sync({ from: new Date(now - 2 * 86_400_000), to: new Date(now - 86_400_000) }).done;
      expect(first.records).toBeGreaterThan(0);
      webhookHealthy = false;
      const second = await kefu.sync({ from: new Date(now - 2 * 86_400_000), to: new Date(now) }).done;
      expect(second.records).toBeGreaterThan(0);
      expectNoSecrets('the sync summaries', JSON.stringify([first, second]));
      for (const target of [...first.targets, ...second.targets]) {
        if (target.error instanceof Error)
          expectNoSecrets('a target error', `${target.error.message} ${target.error.stack}`);
      }
    } finally {
      webhookHealthy = true;
      await kefu.close();
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expectNoSecrets(`log line ${line.slice(0, 80)}`, line);
    const files = filesUnder(dir);
    expect(files.some((file) => file.path.endsWith('dead-letters.jsonl'))).toBe(true);
    expect(files.some((file) => file.path.endsWith('.jsonl') && file.path.includes('records'))).toBe(true);
    for (const file of files) expectNoSecrets(file.path, file.text);
  }, 120_000);

  it('given a wrong Youmi client secret, when authenticating fails, then the typed error names no secret', async () => {
    const provider = new YoumiProvider({
      baseUrl: emulator.youmi.baseUrl,
      tokenUrl: emulator.youmi.tokenUrl,
      clientId: emulator.youmi.clientId,
      clientSecret: WRONG_YOUMI_SECRET,
      wechatIds: [10001],
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: 1 },
    });
    try {
      const error = await provider.listAgents().catch((caught: unknown) => caught);
      expect(isKefuError(error)).toBe(true);
      expectNoSecrets(
        'the auth error',
        `${(error as Error).message} ${JSON.stringify(error)} ${(error as Error).stack}`,
      );
    } finally {
      await provider.close();
    }
  });

  it('given a config file with secrets interpolated from the environment, when `kefu sync` runs, then stdout, stderr and the files written hold no secret', async () => {
    const dir = join(scratch, 'cli');
    const table = `secrets_cli_${process.pid}_${Date.now()}`;
    tables.push(table);
    const account = emulator.wechat.accounts[0]!;
    const config = join(scratch, 'kefu.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [
          {
            use: '@kefu/wechat-mp',
            id: 'wx',
            config: {
              baseUrl: emulator.wechat.baseUrl,
              accounts: [{ appId: account.appId, secret: envReference('KEFU_WECHAT_SECRET') }],
            },
          },
          {
            use: '@kefu/youmi',
            id: 'ym',
            config: {
              baseUrl: emulator.youmi.baseUrl,
              tokenUrl: emulator.youmi.tokenUrl,
              clientId: emulator.youmi.clientId,
              clientSecret: envReference('KEFU_YOUMI_SECRET'),
              wechatIds: [10001],
            },
          },
        ],
        sinks: [
          { use: '@kefu/sink-file', id: 'files', config: { dir: join(dir, 'records') } },
          {
            use: '@kefu/sink-http',
            id: 'hook',
            config: {
              url: webhookUrl,
              secret: envReference('KEFU_HMAC_KEY'),
              deadLetterPath: join(dir, 'dead-letters.jsonl'),
            },
          },
          { use: '@kefu/sink-db', id: 'db', config: { url: envReference('KEFU_DATABASE_URL'), table } },
        ],
        checkpoints: { use: 'file', path: join(dir, 'checkpoints.json') },
      }),
    );
    const stdout = new CapturedStream();
    const stderr = new CapturedStream();
    const env = {
      KEFU_WECHAT_SECRET: account.secret,
      KEFU_YOUMI_SECRET: YOUMI_SECRET,
      KEFU_HMAC_KEY: HMAC_KEY,
      KEFU_DATABASE_URL: databaseUrl(),
    };
    const code = await runCli(['sync', '-c', config, '--from', '2d', '--json', '--log-level', 'debug'], {
      stdout,
      stderr,
      env,
      cwd: scratch,
    });
    expect(code, stderr.text.slice(-2000)).toBe(0);
    expect((JSON.parse(stdout.text) as { records: number }).records).toBeGreaterThan(0);
    expectNoSecrets('stdout', stdout.text);
    expectNoSecrets('stderr', stderr.text);
    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expectNoSecrets(file.path, file.text);
  }, 120_000);
});
