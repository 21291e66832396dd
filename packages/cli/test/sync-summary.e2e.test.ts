import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { type ChildRun, runKillableChild } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `kefu sync` (the built binary) whose sink cannot work: the end-of-run summary must say
// why, per target — the error's code, its message and the fix — as a JSON log line when
// stderr is not a terminal, and in JSON on stdout with --json (the text block a terminal
// shows is covered by sync-summary.test.ts).

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');

function run(args: string[], cwd: string): Promise<ChildRun> {
  return runKillableChild(BIN, args, { cwd });
}

describe('kefu sync summary: failures say why', () => {
  let emulator: RunningEmulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'cli-summary', wechat: { accounts: 2, days: 2, recordsPerDay: 60 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-cli-summary-'));
    // A path through a regular file: SQLite cannot open it, whatever the user's rights.
    await writeFile(join(dir, 'not-a-directory'), '');
    await writeFile(
      join(dir, 'kefu.json'),
      JSON.stringify({
        providers: [
          {
            use: '@kefu/wechat-mp',
            id: 'wx',
            config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts },
          },
        ],
        sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: './not-a-directory/kefu.db' } }],
        checkpoints: { use: 'file', path: './checkpoints.json' },
      }),
    );
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given a sink that cannot open its database and no terminal, when syncing, then stderr is JSON lines only and the summary line gives each target its code, message and fix (exit 1)', async () => {
    const result = await run(['sync', '-c', 'kefu.json', '--from', '2d'], dir);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    // Every line is one JSON object: log collectors read stderr as it is.
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = entries.find((entry) => entry.msg === 'sync summary') as
      | {
          level: string;
          records: number;
          targets: Array<{ target: string; status: string; error: Record<string, string> }>;
        }
      | undefined;
    expect(summary?.level).toBe('error');
    expect(summary?.records).toBe(0);
    expect(summary?.targets.map((target) => target.target).sort()).toEqual(
      emulator.wechat.accounts.map((account) => `wx/${account.appId}`).sort(),
    );
    for (const target of summary?.targets ?? []) {
      expect(target.status).toBe('failed');
      expect(target.error).toMatchObject({
        code: 'SINK_DB_AUTH_FAILED',
        message: expect.stringMatching(/sink db failed to write \d+ records of default\/wx\/.*not-a-directory/),
        fix: expect.stringContaining('Check the user and password in `url`'),
      });
    }
  });

  it('given the same failure with --json, when syncing, then each target carries error { code, message, fix }', async () => {
    const result = await run(['sync', '-c', 'kefu.json', '--from', '2d', '--json'], dir);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as {
      targets: Array<{ status: string; error: { code: string; message: string; fix: string } }>;
    };
    expect(summary.targets).toHaveLength(2);
    for (const target of summary.targets) {
      expect(target.status).toBe('failed');
      expect(target.error).toMatchObject({
        code: 'SINK_DB_AUTH_FAILED',
        message: expect.stringContaining('not-a-directory'),
        fix: expect.stringContaining('SQLite file path and its permissions'),
      });
    }
  });
});
