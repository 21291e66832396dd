import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { integrationServer } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `kefu doctor` tells the truth: a ✓ only for what it tried and what worked (a PostgreSQL
// sink whose database does not exist got one), and a failure says which kind of problem it
// is — YAML syntax, plugin not installed (with the package it most likely meant),
// unreachable, credentials refused, not found.

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

const [postgres, mysql] = await Promise.all([integrationServer('postgres'), integrationServer('mysql')]);

describe('kefu doctor', () => {
  let emulator: RunningEmulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'doctor', wechat: { accounts: 1, days: 1, recordsPerDay: 20 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-doctor-'));
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `config` (an object as JSON, or YAML text) and runs `kefu doctor` on it. */
  async function doctor(name: string, config: object | string) {
    const file = `${name}.${typeof config === 'string' ? 'yaml' : 'json'}`;
    await writeFile(join(dir, file), typeof config === 'string' ? config : JSON.stringify(config));
    const stdout = new Captured();
    const stderr = new Captured();
    const code = await runCli(['doctor', '-c', file], { stdout, stderr, env: {}, cwd: dir });
    return { code, out: stdout.text };
  }

  const wechat = (secret?: string) => ({
    use: '@kefu/wechat-mp',
    id: 'wx',
    config: {
      baseUrl: emulator.wechat.baseUrl,
      accounts: emulator.wechat.accounts.map((account) => ({ ...account, ...(secret ? { secret } : {}) })),
    },
  });

  it('given a healthy provider, a SQLite sink and a sink without a probe, then ✓ for what was tried and • for what was not', async () => {
    const result = await doctor('healthy', {
      providers: [wechat()],
      sinks: [
        { use: '@kefu/sink-db', id: 'db', config: { url: './kefu.db' } },
        {
          use: '@kefu/sink-http',
          id: 'hook',
          config: {
            url: 'http://127.0.0.1:1/hook',
            secret: 'a-webhook-secret-32-characters!!',
            onPermanentFailure: 'fail',
          },
        },
      ],
    });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/^✓ provider wx +credentials accepted/m);
    expect(result.out).toMatch(/^✓ sink db +connected: ready to accept data/m);
    expect(result.out).toMatch(/^• sink hook +configured; this sink has no probe, so nothing was tried/m);
  });

  it('given a YAML syntax error, then the config check says "YAML syntax" with the line', async () => {
    const result = await doctor('syntax', 'providers:\n  - use: "@kefu/wechat-mp"\n\tconfig: {}\n');
    expect(result.code).toBe(2);
    expect(result.out).toMatch(
      /^✗ config +YAML syntax: \S+: not valid YAML at line 3, column 1: .* \[KEFU_CONFIG_INVALID\]/m,
    );
  });

  it('given a misspelled package, then the plugins check says "plugin not installed" and names the package it meant', async () => {
    const result = await doctor('misspelled', { providers: [{ ...wechat(), use: '@kefu/wechat' }] });
    expect(result.code).toBe(2);
    expect(result.out).toMatch(
      /^✗ plugins +plugin not installed: providers\[0\]: plugin package "@kefu\/wechat" is not installed .*; did you mean `@kefu\/wechat-mp`\? \[KEFU_PLUGIN_NOT_FOUND\]/m,
    );
  });

  it('given a wrong app secret, then the provider check says "credentials refused"', async () => {
    const result = await doctor('wrong-secret', { providers: [wechat('not-the-app-secret')] });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^✗ provider wx +credentials refused: .* \[WECHAT_\d+\]/m);
  });

  it('given a provider and a sink nobody answers for, then both checks say "unreachable"', async () => {
    const result = await doctor('unreachable', {
      providers: [
        {
          use: '@kefu/wechat-mp',
          id: 'wx',
          config: { baseUrl: 'http://127.0.0.1:1', accounts: emulator.wechat.accounts, retry: { maxAttempts: 1 } },
        },
      ],
      sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: 'postgres://kefu@127.0.0.1:1/kefu' } }],
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^✗ provider wx +unreachable: /m);
    expect(result.out).toMatch(/^✗ sink db +unreachable: .* \[SINK_DB_UNAVAILABLE\]/m);
  });

  it.skipIf(!postgres.available)(
    'given a PostgreSQL sink whose database does not exist, then no ✓: the sink check says "not found"',
    async () => {
      const url = new URL(postgres.url);
      url.pathname = '/kefu_doctor_no_such_database';
      const result = await doctor('missing-database', {
        sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: url.href } }],
      });
      expect(result.code).toBe(1);
      expect(result.out).not.toMatch(/^✓ sink db/m);
      expect(result.out).toMatch(
        /^✗ sink db +not found: .*kefu_doctor_no_such_database.* \[SINK_DB_NOT_FOUND\]\n +fix: Create it/m,
      );
    },
  );

  it.skipIf(!mysql.available)(
    'given a MariaDB sink with a wrong password, then the sink check says "credentials refused"',
    async () => {
      const url = new URL(mysql.url);
      url.username = 'root';
      url.password = 'not-the-password';
      const result = await doctor('wrong-password', {
        sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: url.href } }],
      });
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^✗ sink db +credentials refused: .* \[SINK_DB_AUTH_FAILED\]/m);
      expect(result.out).not.toContain('not-the-password');
    },
  );
});
