import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPackagesBuilt } from './support/child-runs.js';
import { summaryOfStderr } from './support/sync-summary.js';
import { expectedWechatIds } from './support/wechat-ground-truth.js';

/**
 * Resume after Ctrl-C: `kefu sync --from 30d` over three WeChat accounts, one at a time, is
 * stopped with SIGINT while the first account syncs (the other two have not started). The
 * summary (a JSON line on stderr) shows the three as stopped, not done, and resumable. A second
 * `kefu sync` without `--from` (whose default is 7 days) must deliver every record of the
 * 30 days for all three: the stopped run's range was stored for each target before any
 * started. The old behaviour gave the unstarted accounts only the last 7 days.
 */

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../../cli/dist/bin.js');

let emulator: RunningEmulator;
let scratch: string;

beforeAll(async () => {
  assertPackagesBuilt(['core', 'cli', 'emulator', 'wechat-mp', 'sink-db']);
  // 31 days of history; each page waits 15 ms, so a target takes a while and Ctrl-C lands inside the first.
  emulator = await startEmulator({
    seed: 'resume-range',
    wechat: { accounts: 3, days: 31, recordsPerDay: 150 },
    faults: { latencyMs: 15 },
  });
  scratch = mkdtempSync(join(tmpdir(), 'kefu-resume-range-'));
});
afterAll(async () => {
  await emulator?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `kefu`; `interruptWhen` is polled every 20 ms and, once true, the child gets SIGINT. */
function kefu(args: string[], interruptWhen?: () => boolean): Promise<CliRun> {
  return new Promise((settle, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const poll = interruptWhen
      ? setInterval(() => {
          if (interruptWhen()) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20)
      : undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(poll);
      clearTimeout(guard);
      settle({ code, stdout, stderr });
    });
  });
}

function storedIds(path: string): string[] {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare('SELECT id FROM kefu_records').all() as Array<{ id: string }>).map((row) => row.id);
    } finally {
      db.close();
    }
  } catch {
    return []; // not created yet
  }
}

describe('resume after Ctrl-C', () => {
  it('given a 30-day sync stopped before two of three accounts started, when run again without --from, then every record of the 30 days arrives', async () => {
    const database = join(scratch, 'kefu.db');
    const config = join(scratch, 'kefu.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [
          {
            use: '@kefu/wechat-mp',
            id: 'wx',
            config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts, pageSize: 100 },
          },
        ],
        sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: database } }],
        checkpoints: { use: 'sink', sink: 'db' },
        sync: { batchSize: 50, concurrency: 1 },
      }),
    );

    // Stopped once the first account has committed something.
    const stopped = await kefu(['sync', '-c', config, '--from', '30d'], () => storedIds(database).length > 0);
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    const [first, second, third] = emulator.wechat.accounts.map((account) => `wx/${account.appId}`);
    // Without a terminal the summary is a JSON line on stderr: all three stopped and resumable, none done.
    const stoppedSummary = summaryOfStderr(stopped.stderr);
    expect(stoppedSummary).toMatchObject({ level: 'info', stopped: true, failed: 0, resumable: 3 });
    expect(stoppedSummary.targets.map((target) => target.target)).toEqual([first, second, third]);
    expect(stoppedSummary.targets[0]).toMatchObject({ status: 'stopped', resumable: true });
    expect(stoppedSummary.targets[0]?.records).toBeGreaterThan(0);
    for (const target of stoppedSummary.targets.slice(1)) {
      // Not started: nothing read, still resumable.
      expect(target).toMatchObject({ status: 'stopped', records: 0, pages: 0, retries: 0, resumable: true });
    }

    const resumed = await kefu(['sync', '-c', config, '--json']);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(resumed.stdout) as {
      targets: Array<{ target: string; status: string; range: { from: string; to: string }; warnings: unknown }>;
    };
    expect(summary.targets.map((target) => target.status)).toEqual(['done', 'done', 'done']);
    // Every target synced the stopped run's range (30 days), and nobody asked for another one: no warning.
    const from = new Date(summary.targets[0]?.range.from as string);
    const to = new Date(summary.targets[0]?.range.to as string);
    expect(Math.round((to.getTime() - from.getTime()) / 86_400_000)).toBe(30);
    for (const target of summary.targets) {
      expect(target.range.from).toBe(from.toISOString());
      expect(target.warnings).toEqual({ count: 0, distinct: [] });
    }
    const expected = emulator.wechat.accounts.flatMap((account) =>
      expectedWechatIds(emulator, account.appId, from, to),
    );
    const ids = storedIds(database).sort();
    expect(ids.length).toBe(expected.length);
    expect(ids).toEqual(expected.sort());
  }, 180_000);

  it('given a sync stopped before an account started, when run again with another --from, then it resumes the stored range and the summary warns that the range differs', async () => {
    const database = join(scratch, 'warn.db');
    const config = join(scratch, 'warn.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [
          {
            use: '@kefu/wechat-mp',
            id: 'wx',
            config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts.slice(0, 2), pageSize: 100 },
          },
        ],
        sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: database } }],
        checkpoints: { use: 'sink', sink: 'db' },
        sync: { batchSize: 50, concurrency: 1 },
      }),
    );
    const stopped = await kefu(['sync', '-c', config, '--from', '20d'], () => storedIds(database).length > 0);
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    const resumed = await kefu(['sync', '-c', config, '--from', '2d']);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    const second = `wx/${emulator.wechat.accounts[1]?.appId}`;
    const target = summaryOfStderr(resumed.stderr).targets.find((candidate) => candidate.target === second);
    expect(target).toMatchObject({
      status: 'done',
      warnings: {
        distinct: [
          {
            code: 'KEFU_SYNC_RANGE_DIFFERS',
            message: expect.stringMatching(
              /^resuming the interrupted sync's range from \S+, not from \S+ as this run asked/,
            ),
          },
        ],
      },
    });
    expect(target).not.toHaveProperty('resumable');
  }, 180_000);
});
