import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_RECORD_KNOBS,
  describeRecordReading,
  type RunningEmulator,
  startEmulator,
  type WechatRawRecord,
  type WechatRecordKnobs,
  wechatRecordReadings,
} from '@kefu/emulator';
import { type ChildRun, runKillableChild } from '@kefu/testkit';
import { recordId, recordIdentity } from '@kefu/wechat-mp/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 17, end to end: the built `kefu` binary syncs one Beijing day of 980 getmsglist
// records (the day that lost 830 of them before) from an emulator serving each reading of
// the docs, with pages of 50, 2 000 and 10 000, and must write exactly the ground truth.

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const NOW = Date.UTC(2026, 0, 15, 4, 0, 0); // 12:00 in Beijing
const DAY = { from: new Date(Date.UTC(2026, 0, 13, 16)), to: new Date(Date.UTC(2026, 0, 14, 16)) };

function kefu(args: string[], cwd: string): Promise<ChildRun> {
  return runKillableChild(BIN, args, { cwd });
}

interface TargetJson {
  status: string;
  records: number;
  warnings: { count: number; distinct: Array<{ code: string }> };
  error?: { code: string; message: string };
}

let emulator: RunningEmulator;
let dir: string;
let runs = 0;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 'issue-17',
    now: NOW,
    freezeClock: true,
    // 1635 records of every opercode a day: 980 chat messages, what getmsglist serves.
    wechat: { accounts: 1, days: 3, recordsPerDay: 1635, uniformDays: true },
  });
  dir = await mkdtemp(join(tmpdir(), 'kefu-readings-'));
});
afterAll(async () => {
  await emulator?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config syncing the emulator's account into a fresh JSONL file and checkpoint file. */
async function freshConfig(pageSize: number): Promise<{ file: string; records: string }> {
  const run = join(dir, `run-${++runs}`);
  await mkdir(run);
  const config = {
    providers: [
      {
        use: '@kefu/wechat-mp',
        id: 'wx',
        config: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts, pageSize },
      },
    ],
    sinks: [{ use: '@kefu/sink-file', id: 'files', config: { dir: run, path: 'records.jsonl' } }],
    checkpoints: { use: 'file', path: join(run, 'checkpoints.json') },
  };
  const file = join(run, 'kefu.json');
  await writeFile(file, JSON.stringify(config));
  return { file, records: join(run, 'records.jsonl') };
}

async function syncDay(pageSize: number, extra: string[] = ['--json']) {
  const { file, records } = await freshConfig(pageSize);
  const result = await kefu(
    ['sync', '-c', file, '--from', DAY.from.toISOString(), '--to', DAY.to.toISOString(), ...extra],
    dir,
  );
  return { result, records };
}

/** The JSONL file as written, in order ([] when nothing was written). */
async function written(path: string): Promise<Array<{ id: string; raw: WechatRawRecord }>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const key = (raw: WechatRawRecord) => JSON.stringify([raw.openid, raw.opercode, raw.time, raw.worker, raw.text]);

/** The ground truth and the ids kefu must give it. */
function truth() {
  const appId = emulator.wechat.accounts[0]!.appId;
  const records = emulator.wechat.expectedRecords({ appId, ...DAY });
  const seen = new Map<string, number>();
  const ids = records.map((raw) => {
    const identity = recordIdentity(appId, raw);
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    return recordId(identity, occurrence);
  });
  return { keys: records.map(key), ids };
}

describe.each(wechatRecordReadings().map((knobs) => [describeRecordReading(knobs), knobs] as const))(
  'kefu sync of a busy day under the reading %s',
  (_name, knobs: WechatRecordKnobs) => {
    it('given pages of 50, 2 000 and 10 000, then each writes exactly the 980 records of the ground truth and exits 0', async () => {
      emulator.wechat.setRecordKnobs(knobs);
      const expected = truth();
      expect(expected.keys).toHaveLength(980);
      const syncs = await Promise.all([50, 2000, 10_000].map((pageSize) => syncDay(pageSize)));
      for (const { result, records } of syncs) {
        expect(result.code, result.stderr).toBe(0);
        const summary = JSON.parse(result.stdout) as { records: number; targets: TargetJson[] };
        expect(summary.targets[0]).toMatchObject({ status: 'done', records: 980, warnings: { count: 0 } });
        const lines = await written(records);
        expect(lines.map((line) => key(line.raw))).toEqual(expected.keys);
        expect(lines.map((line) => line.id)).toEqual(expected.ids);
      }
    });
  },
);

/** The `sync summary` JSON line of a sync's stderr (every stderr line is JSON without a terminal). */
function stderrSummary(stderr: string): Record<string, unknown> | undefined {
  const entries = stderr
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return entries.find((entry) => entry.msg === 'sync summary');
}

describe('kefu sync meets getmsglist answers it cannot follow or that disagree with themselves', () => {
  afterAll(() => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
  });

  it('given a full page whose msgid does not advance, then it exits 1 with WECHAT_MSGID_NOT_ADVANCING in both summaries', async () => {
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, cursorFault: 'stall' });
    const json = await syncDay(50);
    expect(json.result.code).toBe(1);
    const summary = JSON.parse(json.result.stdout) as { targets: TargetJson[] };
    expect(summary.targets[0]).toMatchObject({ status: 'failed', error: { code: 'WECHAT_MSGID_NOT_ADVANCING' } });
    // The first page was delivered; nothing pretends the day is done.
    expect((await written(json.records)).length).toBeLessThan(980);

    // Without --json and without a terminal, the summary is a JSON line on stderr.
    const text = await syncDay(50, []);
    expect(text.result.code).toBe(1);
    expect(stderrSummary(text.result.stderr)).toMatchObject({
      level: 'error',
      targets: [
        {
          status: 'failed',
          error: { code: 'WECHAT_MSGID_NOT_ADVANCING', message: expect.stringMatching(/^WeChat getmsglist for /) },
        },
      ],
    });
  });

  it('given a number that echoes the request, then the sync is exact and its summary counts and shows the warning', async () => {
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, number: 'requested' });
    const json = await syncDay(2000);
    expect(json.result.code).toBe(0);
    const summary = JSON.parse(json.result.stdout) as { targets: TargetJson[] };
    expect(summary.targets[0]).toMatchObject({
      status: 'done',
      records: 980,
      warnings: { count: 1, distinct: [{ code: 'WECHAT_MSGLIST_NUMBER_MISMATCH' }] },
    });
    expect((await written(json.records)).map((line) => key(line.raw))).toEqual(truth().keys);

    const text = await syncDay(2000, []);
    expect(text.result.code).toBe(0);
    expect(stderrSummary(text.result.stderr)).toMatchObject({
      level: 'info',
      targets: [
        {
          status: 'done',
          records: 980,
          warnings: {
            count: 1,
            distinct: [
              {
                code: 'WECHAT_MSGLIST_NUMBER_MISMATCH',
                message: expect.stringContaining('getmsglist answered number 2000'),
              },
            ],
          },
        },
      ],
    });
  });
});

describe('kefu emulator --print-config', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('given the printed config, when kefu sync runs it as it is, then it syncs the emulator with exit code 0', async () => {
    child = spawn(process.execPath, [BIN, 'emulator', '--print-config', '--days', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    for await (const line of createInterface({ input: child.stdout! })) {
      lines.push(line);
      if (line === '...') break;
    }
    const work = join(dir, 'printed');
    await mkdir(work);
    await writeFile(join(work, 'kefu.yaml'), `${lines.join('\n')}\n`);
    const result = await kefu(['sync', '-c', 'kefu.yaml', '--provider', 'wechat', '--from', '1d', '--json'], work);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { records: number; targets: TargetJson[] };
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.targets.every((target) => target.status === 'done')).toBe(true);
  });
});
