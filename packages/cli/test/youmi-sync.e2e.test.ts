import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { type ChildRun, runKillableChild } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// End-to-end: the built `kefu` binary syncing Youmi from an emulator that reads the docs
// differently from the defaults on every open point at once (ids per fan, rows newest
// first, inclusive cursor, exclusive end bound, seven fraction digits, `+` for spaces).

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const SECRET_ENV = 'KEFU_E2E_YOUMI_SECRET';
const HOUR = 3_600_000;

function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<ChildRun> {
  return runKillableChild(BIN, args, options);
}

/** Every record id the JSONL sink wrote, in file order. */
async function writtenIds(dir: string): Promise<string[]> {
  const files = (await readdir(join(dir, 'records'), { recursive: true }))
    .map(String)
    .filter((f) => f.endsWith('.jsonl'));
  const ids: string[] = [];
  for (const file of files.sort()) {
    const text = await readFile(join(dir, 'records', file), 'utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

describe('kefu sync of Youmi (subprocess, against the emulator under other readings)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 'cli-youmi',
      youmi: {
        wechatIds: [10001],
        fansPerAccount: 12,
        chatsPerFan: 25,
        days: 4,
        chatIds: 'fan',
        chatOrder: 'time-desc',
        minChattingId: 'inclusive',
        endBound: 'exclusive',
        timeFormat: 'fraction7',
        resvredEncoding: 'form',
      },
    });
    dir = await mkdtemp(join(tmpdir(), 'kefu-cli-youmi-'));
    env = { [SECRET_ENV]: emulator.youmi.clientSecret };
    const config = [
      'providers:',
      '  - use: "@kefu/youmi"',
      '    id: youmi',
      '    config:',
      `      baseUrl: ${emulator.youmi.baseUrl}`,
      `      tokenUrl: ${emulator.youmi.tokenUrl}`,
      `      clientId: ${emulator.youmi.clientId}`,
      `      clientSecret: \${${SECRET_ENV}}`,
      '      wechatIds: [10001]',
      '      pageSize: 7',
      'sinks:',
      '  - use: "@kefu/sink-file"',
      '    id: files',
      '    config: { dir: ./records }',
      'checkpoints: { use: file, path: ./checkpoints.json }',
    ].join('\n');
    await writeFile(join(dir, 'kefu.yaml'), config);
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given a bounded sync, late uploads, then an open sync, then every chat of the range is written exactly once', async () => {
    const { youmi } = emulator;
    const start = emulator.clock.now();
    const from = new Date(Math.floor((start - 3 * 24 * HOUR) / 1000) * 1000);
    const boundedTo = new Date(from.getTime() + 30 * HOUR);
    const fans = youmi.fans(10001);
    // A late upload before the bounded sync: old time inside its range, an id above the fan's later chats.
    youmi.addLateUpload({
      wechatId: 10001,
      fansKey: fans[3]!.fansKey,
      time: from.getTime() + HOUR,
      arriveAt: start,
      content: '补传 A',
    });

    const bounded = await run(
      ['sync', '-c', 'kefu.yaml', '--from', from.toISOString(), '--to', boundedTo.toISOString(), '--json'],
      {
        cwd: dir,
        env,
      },
    );
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(bounded.stderr).not.toContain(emulator.youmi.clientSecret);
    const afterBounded = await writtenIds(dir);
    const boundedTruth = youmi.expectedChats({ wechatId: 10001, from, to: new Date(boundedTo.getTime() - 1) });
    expect([...afterBounded].sort()).toEqual(boundedTruth.map((chat) => `10001:${chat.ad_chatting_id}`).sort());

    // Late uploads between the runs: one before the bounded sync's `to`, one after it.
    youmi.addLateUpload({
      wechatId: 10001,
      fansKey: fans[0]!.fansKey,
      time: from.getTime() + 2 * HOUR,
      arriveAt: emulator.clock.now(),
      content: '补传 B',
    });
    youmi.addLateUpload({
      wechatId: 10001,
      fansKey: fans[9]!.fansKey,
      time: boundedTo.getTime() + HOUR,
      arriveAt: emulator.clock.now(),
      content: '补传 C',
    });
    youmi.revokeTokens();

    // The default --from (7d) differs from the first run's: the checkpoint keeps the range it started with.
    const open = await run(['sync', '-c', 'kefu.yaml', '--json'], { cwd: dir, env });
    expect(open.code, open.stderr).toBe(0);
    const ids = await writtenIds(dir);
    const truth = youmi.expectedChats({ wechatId: 10001, from, to: new Date(emulator.clock.now()) });
    expect(ids.length, 'nothing twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual(truth.map((chat) => `10001:${chat.ad_chatting_id}`).sort());
    expect(truth.filter((chat) => chat.ad_chatting_content.startsWith('补传'))).toHaveLength(3);
  });

  it('given doctor, then Youmi is probed with a documented call (GetFansCount)', async () => {
    const before = emulator.requests.count({ path: '/v2/Friend/GetFansCount' });
    const result = await run(['doctor', '-c', 'kefu.yaml'], { cwd: dir, env });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('✓ provider youmi');
    expect(emulator.requests.count({ path: '/v2/Friend/GetFansCount' })).toBe(before + 1);
  });

  it('given an unreachable token URL, then doctor says the token endpoint is unavailable and shows the URL', async () => {
    const closed = 'http://127.0.0.1:9/connect/token';
    const config = (await readFile(join(dir, 'kefu.yaml'), 'utf8')).replace(
      `tokenUrl: ${emulator.youmi.tokenUrl}`,
      `tokenUrl: ${closed}`,
    );
    await writeFile(join(dir, 'closed-token.yaml'), config);
    const result = await run(['doctor', '-c', 'closed-token.yaml', '--json'], { cwd: dir, env });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      checks: Array<{ name: string; ok: boolean; code?: string; message: string }>;
    };
    const check = report.checks.find((candidate) => candidate.name === 'provider youmi');
    expect(check).toMatchObject({ ok: false, code: 'YOUMI_TOKEN_ENDPOINT_UNAVAILABLE' });
    expect(check?.message).toContain(closed);
    expect(result.stdout).not.toContain('[redacted]');
    expect(result.stdout).not.toContain(emulator.youmi.clientSecret);
  });
});
