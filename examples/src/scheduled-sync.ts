/**
 * A scheduled incremental sync: every interval, sync everything up to "now" into a sink;
 * each run resumes from the checkpoints of the previous one (a file store), so it reads
 * only what is new. Runs never overlap: a tick that comes while a run is still going is
 * skipped (`exhaustMap`), the usual choice for cron-like jobs.
 *
 * In production the interval is minutes and `now` is the wall clock; the example drives
 * the emulator's clock forward six hours per run to show new records arriving.
 *
 * Run it: `node examples/dist/src/scheduled-sync.js [dir]` (after `pnpm build`).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createKefu, type Kefu, type SyncSummary, silentLogger } from '@kefu/core';
import { startEmulator } from '@kefu/emulator';
import { plugin as sinkFile } from '@kefu/sink-file';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { exhaustMap, from, type Observable, take, tap, timer } from 'rxjs';

/** Options of {@link scheduleSync}. */
export interface ScheduleOptions {
  intervalMs: number;
  /** How far back the first run reaches (later runs resume from their checkpoints). */
  lookbackMs: number;
  /** The clock (default Date.now). */
  now?: () => number;
  /** Stop after this many runs (default: run forever). */
  runs?: number;
}

/** Emits each run's summary; unsubscribing stops the schedule after the run in progress. */
export function scheduleSync(kefu: Kefu, options: ScheduleOptions): Observable<SyncSummary> {
  const now = options.now ?? Date.now;
  const start = now();
  const summaries = timer(0, options.intervalMs).pipe(
    exhaustMap(() => from(kefu.sync({ from: new Date(start - options.lookbackMs), to: new Date(now()) }).done)),
  );
  return options.runs === undefined ? summaries : summaries.pipe(take(options.runs));
}

/** Three scheduled runs against the emulator, six emulated hours apart. */
export async function main(dir?: string): Promise<{ runs: number[]; total: number; expected: number; dir: string }> {
  const outputDir = dir ?? (await mkdtemp(join(tmpdir(), 'kefu-scheduled-')));
  const emulator = await startEmulator({
    seed: 'scheduled-example',
    wechat: { accounts: 1, days: 3, recordsPerDay: 240 },
  });
  const account = emulator.wechat.accounts[0]!;
  const kefu = await createKefu({
    providers: [{ use: wechatMp, id: 'wechat', config: { baseUrl: emulator.wechat.baseUrl, accounts: [account] } }],
    sinks: [{ use: sinkFile, id: 'jsonl', config: { dir: join(outputDir, 'records') } }],
    checkpoints: { use: 'file', path: join(outputDir, 'checkpoints.json') },
    logger: silentLogger,
    clock: { now: () => emulator.clock.now() },
  });
  const lookbackMs = 86_400_000;
  const start = emulator.clock.now();
  const runs: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      scheduleSync(kefu, { intervalMs: 100, lookbackMs, runs: 3, now: () => emulator.clock.now() })
        .pipe(
          tap((summary) => {
            runs.push(summary.records);
            emulator.clock.advance(6 * 3_600_000);
          }),
        )
        .subscribe({ complete: resolve, error: reject });
    });
    const expected = emulator.wechat
      .expectedRecords({
        appId: account.appId,
        from: new Date(start - lookbackMs),
        to: new Date(start + 2 * 6 * 3_600_000),
      })
      .filter((record) => record.opercode === 2002 || record.opercode === 2003).length;
    return { runs, total: runs.reduce((a, b) => a + b, 0), expected, dir: outputDir };
  } finally {
    await kefu.close();
    await emulator.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main(process.argv[2]);
  console.log(`runs synced ${result.runs.join(' + ')} = ${result.total} records (expected ${result.expected})`);
}
