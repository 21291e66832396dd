import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createKefu, type KefuRecord, silentLogger } from '@kefu/core';
import { kefuProviderConfigs, startEmulator } from '@kefu/emulator';
import { DatabaseSink, plugin as sinkDb } from '@kefu/sink-db';
import { plugin as sinkFile } from '@kefu/sink-file';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { plugin as youmi } from '@kefu/youmi';
import { failureReport } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
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
  durationMs: number;
}

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
 * `kefu demo`: the emulator in-process → both providers → SQLite (exactly-once, with
 * its checkpoints) and JSONL files → a summary read back from the database.
 */
export async function runDemoCommand(options: DemoCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const started = Date.now();
  const dir = resolve(io.cwd, options.dir);
  const database = join(dir, 'kefu.db');
  const filesDir = join(dir, 'records');
  // Each demo run starts clean, so its summary describes exactly this run.
  await rm(database, { force: true });
  await rm(`${database}-wal`, { force: true });
  await rm(`${database}-shm`, { force: true });
  await rm(filesDir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  const emulator = await startEmulator({
    seed: 'kefu-demo',
    wechat: { accounts: 2, days: options.days + 1, recordsPerDay: 400, customers: 120 },
    youmi: { wechatIds: 2, fansPerAccount: 40, chatsPerFan: 30, days: options.days + 1 },
  });
  const say = (line: string) => {
    if (!options.json) io.stderr.write(`${line}\n`);
  };
  say(`emulator on ${emulator.url}; syncing ${options.days} day(s) from WeChat MP and Youmi …`);
  // The same provider blocks `kefu emulator --print-config` writes.
  const configs = kefuProviderConfigs(emulator);
  const kefu = await createKefu({
    providers: [
      { use: wechatMp, id: 'wechat-mp', config: configs.wechat },
      { use: youmi, id: 'youmi', config: configs.youmi },
    ],
    sinks: [
      { use: sinkDb, id: 'sqlite', config: { url: database } },
      { use: sinkFile, id: 'jsonl', config: { dir: filesDir } },
    ],
    checkpoints: { use: 'sink', sink: 'sqlite' },
    logger: silentLogger,
  });
  try {
    const to = new Date(emulator.clock.now());
    const from = new Date(to.getTime() - options.days * 86_400_000);
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
    const summary: DemoSummary = {
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
      database,
      files: await listFiles(filesDir),
      durationMs: Date.now() - started,
    };
    if (options.json) {
      io.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const show = (path: string) => relative(io.cwd, path) || path;
      const lines = [
        '',
        `kefu demo: ${summary.records} records in ${(summary.durationMs / 1000).toFixed(1)} s`,
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
        '',
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return failures.length > 0 ? exitCodeOfSummary(syncSummary) : ExitCode.Ok;
  } finally {
    await kefu.close();
    await emulator.stop();
  }
}
