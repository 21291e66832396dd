import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { type Emulator, startEmulator } from '@kefu/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('kefu records: which account', () => {
  let emulator: Emulator;
  let dir: string;
  const env: Record<string, string> = {};

  async function kefu(args: string[]) {
    const stdout = new Captured();
    const stderr = new Captured();
    const code = await runCli(args, { stdout, stderr, env, cwd: dir });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'records-account', wechat: { accounts: 2, days: 2, recordsPerDay: 30 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-records-account-'));
    const accounts = emulator.wechat.accounts;
    const provider = (id: string, list: typeof accounts) =>
      [
        'providers:',
        '  - use: "@kefu/wechat-mp"',
        `    id: ${id}`,
        '    config:',
        `      baseUrl: ${emulator.wechat.baseUrl}`,
        '      accounts:',
        ...list.flatMap((account, index) => {
          env[`WX_SECRET_${index}`] = account.secret;
          return [`        - appId: ${account.appId}`, `          secret: \${WX_SECRET_${index}}`];
        }),
      ].join('\n');
    await writeFile(join(dir, 'one.yaml'), provider('wx', accounts.slice(0, 1)));
    await writeFile(join(dir, 'two.yaml'), provider('wx', accounts));
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given a provider with one account and no --account, then it reads that account', async () => {
    const run = await kefu(['records', '-c', 'one.yaml', '--provider', 'wx', '--from', '2d', '--limit', '2']);
    expect(run.code, run.stderr).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { account: string });
    expect(records).toHaveLength(2);
    expect(records.every((record) => record.account === emulator.wechat.accounts[0]?.appId)).toBe(true);
  });

  it('given two accounts and no --account, then one line names --account and lists the accounts (exit 2)', async () => {
    const run = await kefu(['records', '-c', 'two.yaml', '--provider', 'wx', '--from', '2d']);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--account');
    for (const account of emulator.wechat.accounts) expect(lines[0]).toContain(account.appId);
    expect(run.stdout).toBe('');
  });

  it('given two accounts and --account naming one, then it reads that one; an unknown one is named in the error', async () => {
    const second = emulator.wechat.accounts[1]!.appId;
    const run = await kefu([
      'records',
      '-c',
      'two.yaml',
      '--provider',
      'wx',
      '--from',
      '2d',
      '--account',
      second,
      '--limit',
      '1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { account: string }).account).toBe(second);
    const unknown = await kefu([
      'records',
      '-c',
      'two.yaml',
      '--provider',
      'wx',
      '--from',
      '2d',
      '--account',
      'wx-nope',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--account wx-nope');
  });
});
