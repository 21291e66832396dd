import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createKefu, type KefuRecord, silentLogger } from '@kefu/core';
import { kefuProviderConfigs, startEmulator } from '@kefu/emulator';
import { DatabaseSink, plugin as sinkDb } from '@kefu/sink-db';
import { plugin as sinkFile } from '@kefu/sink-file';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { plugin as wecomKf } from '@kefu/wecom-kf';
import { plugin as youmi } from '@kefu/youmi';
import { failureReport } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { type DemoLiveRecord, type DemoLiveSummary, runDemoLive } from './demo-live.js';
import { exitCodeOfSummary } from './sync-command.js';

/** Flags of `kefu demo`. */
export interface DemoCommandOptions {
  dir: string;
  days: number;
  json?: boolean;
}

/** What the demo prints. */
export interface DemoSummary {
  records: number;
  byProvider: Record<string, number>;
  byKind: Record<string, number>;
  topAgents: Array<{ agent: string; provider: string; records: number }>;
  database: string;
  files: string[];
  /** The live part: `kefu serve` receiving the emulator's pushes, each record as it arrived. */
  live: DemoLiveSummary;
  durationMs: number;
}

export type { DemoLiveRecord, DemoLiveSummary };

function countBy(records: readonly KefuRecord[], key: (record: KefuRecord) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) {
    const value = key(record);
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

function sortedObject(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const files: string[] = [];
  for (const entry of entries) {
    if ((await stat(join(dir, entry))).isFile()) files.push(join(dir, entry));
  }
  return files.sort();
}

/** Reads every record back from the database, page by page. */
async function readAllRecords(sink: DatabaseSink): Promise<KefuRecord[]> {
  const records: KefuRecord[] = [];
  let after: KefuRecord | undefined;
  while (true) {
    const page = await sink.queryRecords({ limit: 10_000, ...(after ? { after } : {}) });
    records.push(...page);
    after = page.at(-1);
    if (page.length < 10_000) return records;
  }
}

/**
 * `kefu demo`: the emulator in-process → the three providers → SQLite (exactly-once, with
 * its checkpoints) and JSONL files → a summary read back from the database; then live:
 * `kefu serve` receives the emulator's WeChat pushes and WeCom callbacks (pulled through
 * kf/sync_msg) and each record is shown as it arrives.
 */
export async function runDemoCommand(options: DemoCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const started = Date.now();
  const dir = resolve(io.cwd, options.dir);
  const paths = { dir, database: join(dir, 'kefu.db'), filesDir: join(dir, 'records') };
  // Each demo run starts clean, so its summary describes exactly this run.
  for (const suffix of ['', '-wal', '-shm']) await rm(`${paths.database}${suffix}`, { force: true });
  await rm(paths.filesDir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  const emulator = await startEmulator({
    seed: 'kefu-demo',
    wechat: { accounts: 2, days: options.days + 1, recordsPerDay: 400, customers: 120 },
    youmi: { wechatIds: 2, fansPerAccount: 40, chatsPerFan: 30, days: options.days + 1 },
    // sync_msg keeps 3 days: the seeded messages lie within the days synced.
    wecom: { accounts: 2, messagesPerAccount: 60, hours: Math.min(48, options.days * 24) },
  });
  const say = (line: string) => {
    if (!options.json) io.stderr.write(`${line}\n`);
  };
  try {
    say(`emulator on ${emulator.url}; syncing ${options.days} day(s) from WeChat MP, Youmi and WeCom kf …`);
    const backfill = await syncPhase(emulator, options.days, paths, say);
    const show = (path: string) => relative(io.cwd, path) || path;
    if (!options.json) io.stdout.write(`${backfillLines(backfill.summary, paths.filesDir, show).join('\n')}\n`);
    say(
      "live: kefu serve receives the emulator's WeChat pushes and WeCom callbacks; each record is shown as it arrives …",
    );
    if (!options.json) io.stdout.write('live records (pushed or pulled on a callback, stored once)\n');
    const live = await runDemoLive(emulator, {
      dir,
      database: paths.database,
      show: (record) => {
        if (!options.json) io.stdout.write(`${liveLine(record)}\n`);
      },
    });
    const summary: DemoSummary = { ...backfill.summary, live, durationMs: Date.now() - started };
    if (options.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const total = `${live.acknowledged} of ${live.pushes} pushes and ${live.callbacksAcknowledged} of ${live.callbacks} WeCom callbacks acknowledged, ${live.records.length} live records`;
      io.stdout.write(
        `\n${total} (in ${show(paths.database)} too)\nkefu demo done in ${(summary.durationMs / 1000).toFixed(1)} s\n`,
      );
    }
    return backfill.failed ? exitCodeOfSummary(backfill.syncSummary) : ExitCode.Ok;
  } finally {
    await emulator.stop();
  }
}

type DemoPaths = { dir: string; database: string; filesDir: string };
type BackfillSummary = Omit<DemoSummary, 'live' | 'durationMs'>;

/** Syncs `days` from both providers into SQLite and JSONL, and reads the records back for the summary. */
async function syncPhase(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  days: number,
  paths: DemoPaths,
  say: (line: string) => void,
) {
  // The same provider blocks `kefu emulator --print-config` writes.
  const configs = kefuProviderConfigs(emulator);
  const kefu = await createKefu({
    providers: [
      { use: wechatMp, id: 'wechat-mp', config: configs.wechat },
      { use: youmi, id: 'youmi', config: configs.youmi },
      { use: wecomKf, id: 'wecom-kf', config: configs.wecom },
    ],
    sinks: [
      { use: sinkDb, id: 'sqlite', config: { url: paths.database } },
      { use: sinkFile, id: 'jsonl', config: { dir: paths.filesDir } },
    ],
    checkpoints: { use: 'sink', sink: 'sqlite' },
    logger: silentLogger,
  });
  try {
    const to = new Date(emulator.clock.now());
    const from = new Date(to.getTime() - days * 86_400_000);
    const run = kefu.sync({ from, to, batchSize: 1000, handleProcessSignals: true });
    const syncSummary = await run.done;
    const failures = syncSummary.targets.filter((t) => t.status !== 'done');
    for (const failure of failures) {
      const report = failure.error === undefined ? undefined : failureReport(failure.error);
      say(`${failure.target}: ${failure.status}${report ? ` — ${report.code}: ${report.message}` : ''}`);
    }
    const sink = kefu.sink('sqlite');
    const records = sink instanceof DatabaseSink ? await readAllRecords(sink) : [];
    const agents = countBy(records, (r) => (r.agent ? `${r.provider}\u0000${r.agent}` : undefined));
    const summary: BackfillSummary = {
      records: records.length,
      byProvider: sortedObject(countBy(records, (r) => r.provider)),
      byKind: sortedObject(countBy(records, (r) => r.kind)),
      topAgents: [...agents]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([key, count]) => {
          const [provider, agent] = key.split('\u0000') as [string, string];
          return { agent, provider, records: count };
        }),
      database: paths.database,
      files: await listFiles(paths.filesDir),
    };
    return { summary, syncSummary, failed: failures.length > 0 };
  } finally {
    await kefu.close();
  }
}

/** The human summary of the backfill. */
function backfillLines(summary: BackfillSummary, filesDir: string, show: (path: string) => string): string[] {
  return [
    '',
    `kefu demo: ${summary.records} records synced`,
    '',
    'records per provider',
    ...Object.entries(summary.byProvider).map(([name, count]) => `  ${name.padEnd(16)} ${count}`),
    '',
    'records per kind',
    ...Object.entries(summary.byKind).map(([name, count]) => `  ${name.padEnd(16)} ${count}`),
    '',
    'top agents',
    ...summary.topAgents.map((a) => `  ${a.agent.padEnd(28)} ${a.provider.padEnd(10)} ${a.records}`),
    '',
    `SQLite database  ${show(summary.database)}   (table kefu_records, checkpoints in kefu_checkpoints)`,
    `JSONL files      ${summary.files.length} under ${show(filesDir)}`,
    ...summary.files.slice(0, 6).map((file) => `  ${show(file)}`),
    ...(summary.files.length > 6 ? [`  … ${summary.files.length - 6} more`] : []),
  ];
}

/** One live record as a line: time, provider, account, kind, customer, text or event. */
function liveLine(record: DemoLiveRecord): string {
  const time = record.at.slice(11, 19);
  return `  ${time}  ${record.provider}  ${record.account}  ${record.kind.padEnd(7)} ${record.customer.padEnd(20)} ${record.what}`;
}
