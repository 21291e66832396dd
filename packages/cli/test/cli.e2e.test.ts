import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { type ChildRun, runKillableChild } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// End-to-end: the built `kefu` binary as a subprocess (`pnpm test` builds first), against
// an emulator on loopback, with the config's secrets passed through the environment.

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const SECRET_ENV = 'KEFU_E2E_WECHAT_SECRET';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<ChildRun> {
  return runKillableChild(BIN, args, options);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolvePromise) => child.once('close', (code) => resolvePromise(code)));
}

describe('kefu command (subprocess, against the emulator)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let env: Record<string, string>;
  let secret: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'cli-e2e', wechat: { accounts: 1, days: 5, recordsPerDay: 120 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-cli-'));
    const account = emulator.wechat.accounts[0]!;
    secret = account.secret;
    env = { [SECRET_ENV]: secret };
    const config = [
      'providers:',
      '  - use: "@kefu/wechat-mp"',
      '    id: wx',
      '    config:',
      `      baseUrl: ${emulator.wechat.baseUrl}`,
      '      accounts:',
      `        - appId: ${account.appId}`,
      `          secret: \${${SECRET_ENV}}`,
      'sinks:',
      '  - use: "@kefu/sink-db"',
      '    id: db',
      '    config: { url: ./kefu.db }',
      '  - use: "@kefu/sink-file"',
      '    id: files',
      '    config: { dir: ./records }',
      'checkpoints: { use: sink, sink: db }',
    ].join('\n');
    await writeFile(join(dir, 'kefu.yaml'), config);
    await writeFile(
      join(dir, 'bad-field.yaml'),
      config.replace(`          secret: \${${SECRET_ENV}}`, '          secret: 42').replace('id: wx', 'id: wx'),
    );
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs incrementally and prints a JSON summary; the second run finds nothing new', async () => {
    const first = await run(['sync', '-c', 'kefu.yaml', '--from', '3d', '--json'], { cwd: dir, env });
    expect(first.stderr).not.toContain(secret);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { records: number; targets: Array<{ status: string }> };
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.targets.every((t) => t.status === 'done')).toBe(true);
    // Non-TTY stderr gets structured JSON log lines.
    const logLines = first.stderr.trim().split('\n');
    expect(logLines.every((line) => JSON.parse(line).level !== undefined)).toBe(true);

    const second = await run(['sync', '-c', 'kefu.yaml', '--from', '3d', '--json'], { cwd: dir, env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { records: number }).records).toBe(0);
    const files = await readdir(join(dir, 'records'), { recursive: true });
    expect(files.some((file) => String(file).endsWith('.jsonl'))).toBe(true);
  });

  it('draws a live progress bar on a pseudo-terminal', async () => {
    // `script` gives the child a real pty, so stderr.isTTY is true there.
    const command = `${process.execPath} ${BIN} sync -c kefu.yaml --from 4d --dry-run`;
    const result = await new Promise<Result>((resolvePromise) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: dir, env: { ...process.env, ...env } });
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.on('close', (code) => resolvePromise({ code, stdout, stderr: '' }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('█');
    expect(result.stdout).toMatch(/\d+ records/);
    expect(result.stdout).toContain('ETA');
    expect(result.stdout).not.toContain(secret);
  });

  it('streams NDJSON to a pipe and stops cleanly when the reader goes away', async () => {
    const child = spawn(process.execPath, [BIN, 'records', '-c', 'kefu.yaml', '--provider', 'wx', '--from', '5d'], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
      // Like `| head -n 5`: read five lines, then close the pipe.
      if (lines.length >= 5) child.stdout.destroy();
    });
    const code = await exited(child);
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const record = JSON.parse(lines[0]!) as { provider: string; id: string };
    expect(record.provider).toBe('wechat-mp');
  });

  it('answers every bad flag or config value with one line naming it and exit code 2', async () => {
    const cases: Array<{ args: string[]; mentions: string }> = [
      { args: ['sync', '-c', 'missing.yaml'], mentions: 'missing.yaml' },
      { args: ['sync', '-c', 'kefu.yaml', '--from', 'last tuesday'], mentions: '--from' },
      { args: ['sync', '-c', 'kefu.yaml', '--batch-size', '0'], mentions: '--batch-size' },
      { args: ['sync', '-c', 'kefu.yaml', '--no-such-flag'], mentions: 'no-such-flag' },
      { args: ['sync', '-c', 'bad-field.yaml'], mentions: 'secret' },
      { args: ['records', '-c', 'kefu.yaml', '--provider', 'nope', '--from', '1d'], mentions: 'nope' },
    ];
    for (const { args, mentions } of cases) {
      const result = await run(args, { cwd: dir, env });
      expect(result.code, args.join(' ')).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toContain(mentions);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('doctor reports each check and what to fix', async () => {
    const healthy = await run(['doctor', '-c', 'kefu.yaml'], { cwd: dir, env });
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain('✓ provider wx');
    expect(healthy.stdout).toContain('✓ config');

    const wrongSecret = await run(['doctor', '-c', 'kefu.yaml', '--json'], {
      cwd: dir,
      env: { [SECRET_ENV]: 'wrong-secret-value' },
    });
    expect(wrongSecret.code).toBe(1);
    const report = JSON.parse(wrongSecret.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; ok: boolean; fix?: string }>;
    };
    expect(report.ok).toBe(false);
    const provider = report.checks.find((check) => check.name === 'provider wx');
    expect(provider?.ok).toBe(false);
    expect(wrongSecret.stdout).not.toContain('wrong-secret-value');
  });

  it('prints the config JSON Schema with the bundled plugins', async () => {
    const result = await run(['schema'], { cwd: dir });
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['providers', 'sinks', 'checkpoints']));
    expect(result.stdout).toContain('@kefu/wechat-mp');
  });

  it('starts the emulator and prints its URL and credentials until interrupted', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--json', '--days', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const firstLine = await new Promise<string>((resolvePromise) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        if (buffer.includes('\n')) resolvePromise(buffer.split('\n')[0]!);
      });
    });
    const description = JSON.parse(firstLine) as {
      url: string;
      wechat: { accounts: Array<{ appId: string; secret: string }> };
    };
    const account = description.wechat.accounts[0]!;
    const token = await fetch(
      `${description.url}/cgi-bin/token?grant_type=client_credential&appid=${account.appId}&secret=${account.secret}`,
    );
    expect(((await token.json()) as { access_token?: string }).access_token).toBeTruthy();
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
  });

  it('runs the demo: the three providers into SQLite and JSONL, with a summary', async () => {
    const result = await run(['demo', '--dir', 'demo', '--days', '1', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      records: number;
      byProvider: Record<string, number>;
      files: string[];
    };
    expect(summary.byProvider['wechat-mp']).toBeGreaterThan(0);
    expect(summary.byProvider.youmi).toBeGreaterThan(0);
    expect(summary.byProvider['wecom-kf']).toBeGreaterThan(0);
    expect(summary.files.some((file) => file.includes('wecom-kf'))).toBe(true);
    const firstFile = await readFile(summary.files[0]!, 'utf8');
    expect(JSON.parse(firstFile.split('\n')[0]!)).toHaveProperty('id');
  });

  it("runs the demo live: kefu serve gets the emulator's WeChat pushes and WeCom callbacks, shows each record as it arrives, stores it once, and stops", async () => {
    const result = await run(['demo', '--dir', 'demo-live', '--days', '1', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const { live } = JSON.parse(result.stdout) as {
      live: {
        pushes: number;
        acknowledged: number;
        callbacks: number;
        callbacksAcknowledged: number;
        records: Array<{ provider: string; customer: string; kind: string; what: string }>;
      };
    };
    expect(live).toMatchObject({ pushes: 5, acknowledged: 5, callbacks: 2, callbacksAcknowledged: 2 });
    expect(live.records.map((record) => [record.provider, record.customer, record.kind, record.what])).toEqual([
      ['wechat-mp', 'o_demo_live_1', 'event', 'session_created'],
      ['wechat-mp', 'o_demo_live_1', 'text', '你好，我的订单什么时候发货？'],
      ['wechat-mp', 'o_demo_live_2', 'text', 'Is the store open on Sunday? 🙂'],
      ['wechat-mp', 'o_demo_live_1', 'voice', '好的，谢谢'],
      ['wechat-mp', 'o_demo_live_1', 'event', 'session_closed'],
      // Pulled through kf/sync_msg on the emulator's kf_msg_or_event callbacks, after the sync's cursor.
      ['wecom-kf', 'wm_emulated_customer', 'text', '请问可以开发票吗？'],
      ['wecom-kf', 'wm_emulated_customer', 'text', '退货地址是哪里？'],
    ]);
    // The live records are in the demo's database beside the synced ones, once each.
    const db = new DatabaseSync(join(dir, 'demo-live', 'kefu.db'), { readOnly: true });
    try {
      const stored = db
        .prepare(
          "SELECT customer, COUNT(*) AS n FROM kefu_records WHERE customer LIKE 'o_demo_live_%' GROUP BY customer",
        )
        .all();
      expect(stored).toEqual([
        { customer: 'o_demo_live_1', n: 4 },
        { customer: 'o_demo_live_2', n: 1 },
      ]);
      const wecomLive = db
        .prepare("SELECT text, COUNT(*) AS n FROM kefu_records WHERE customer = 'wm_emulated_customer' GROUP BY text")
        .all();
      expect(wecomLive).toEqual([
        { text: '请问可以开发票吗？', n: 1 },
        { text: '退货地址是哪里？', n: 1 },
      ]);
    } finally {
      db.close();
    }

    // The human output prints the live records as lines as they arrive; a second run starts clean.
    const human = await run(['demo', '--dir', 'demo-live', '--days', '1'], { cwd: dir });
    expect(human.code).toBe(0);
    const lines = human.stdout.split('\n');
    const header = lines.indexOf('live records (pushed or pulled on a callback, stored once)');
    expect(header).toBeGreaterThan(0);
    expect(lines.slice(header + 1, header + 8).map((line) => line.trim().split(/\s+/).slice(1, 5))).toEqual([
      ['wechat-mp', expect.stringMatching(/^wx/), 'event', 'o_demo_live_1'],
      ['wechat-mp', expect.stringMatching(/^wx/), 'text', 'o_demo_live_1'],
      ['wechat-mp', expect.stringMatching(/^wx/), 'text', 'o_demo_live_2'],
      ['wechat-mp', expect.stringMatching(/^wx/), 'voice', 'o_demo_live_1'],
      ['wechat-mp', expect.stringMatching(/^wx/), 'event', 'o_demo_live_1'],
      ['wecom-kf', expect.stringMatching(/^wk/), 'text', 'wm_emulated_customer'],
      ['wecom-kf', expect.stringMatching(/^wk/), 'text', 'wm_emulated_customer'],
    ]);
    expect(human.stdout).toContain('5 of 5 pushes and 2 of 2 WeCom callbacks acknowledged, 7 live records');
  });
});
