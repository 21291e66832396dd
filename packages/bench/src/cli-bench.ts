/**
 * `kefu sync` as users run it — the CLI in a child process, a config file, no flags —
 * against the bare scripts of bare-sync.ts, on the same emulator data in the same run.
 * Reports wall time, records/s, the ratio kefu / bare and the peak RSS (VmHWM) of each
 * child process.
 * Usage: node dist/cli-bench.js [--records 100000] [--targets jsonl,sqlite,postgres,mysql]
 *        [--runs 1] [--batch-size N (sync.batchSize in the config; default: kefu's)] [--markdown FILE]
 *        [--sink-config JSON (merged into the sink's config block, e.g. '{"cacheSizeMiB":16}')]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BareTask } from './bare-sync.js';
import { startEmulatorProcess } from './child-processes.js';
import { benchError } from './errors.js';
import { benchRange, emulatorOptionsFor, syncArgs } from './scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI_BIN = join(here, '../../cli/dist/bin.js');
const TARGETS = ['jsonl', 'sqlite', 'postgres', 'mysql'] as const;
type Target = (typeof TARGETS)[number];

/** One child process measured: wall time, records it reported, peak RSS. */
export interface ChildRun {
  seconds: number;
  records: number;
  peakRssMiB: number;
}

/** Peak RSS (VmHWM) of a process and its descendants, MiB; 0 once it is gone. */
function highWaterMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const own = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return Math.max(own, ...children.map((child) => highWaterMiB(Number(child))));
  } catch {
    return 0;
  }
}

/** Runs a command, sampling its peak RSS every 20 ms; resolves with its stdout and figures. */
export function measureChild(
  command: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildRun & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command[0] as string, command.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, highWaterMiB(child.pid));
    }, 20);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sample);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(benchError('BENCH_CHILD_FAILED', `${command.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({ seconds, records: 0, peakRssMiB: Math.round(peak), stdout });
    });
  });
}

interface Source {
  url: string;
  appId: string;
  secret: string;
}

/** The config file of a `kefu sync` into `target`, in `dir`. */
function writeConfig(dir: string, target: Target, source: Source, table: string, batchSize?: number): void {
  const sink =
    target === 'jsonl'
      ? { use: '@kefu/sink-file', id: 'out', config: { dir: './out', ...sinkConfig } }
      : {
          use: '@kefu/sink-db',
          id: 'db',
          config: {
            url: target === 'sqlite' ? './kefu.db' : databaseUrl(target),
            table,
            checkpointTable: `${table}_cp`,
            ...sinkConfig,
          },
        };
  const config = {
    providers: [
      {
        use: '@kefu/wechat-mp',
        id: 'wx',
        config: { baseUrl: source.url, accounts: [{ appId: source.appId, secret: source.secret }] },
      },
    ],
    sinks: [sink],
    checkpoints: target === 'jsonl' ? { use: 'file', path: './checkpoints.json' } : { use: 'sink', sink: 'db' },
    ...(batchSize === undefined ? {} : { sync: { batchSize } }),
  };
  writeFileSync(join(dir, 'kefu.json'), JSON.stringify(config, null, 2));
}

function databaseUrl(target: 'postgres' | 'mysql'): string {
  return target === 'postgres'
    ? (process.env.KEFU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
    : (process.env.KEFU_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test');
}

/** Drops the bench's tables on a server (before and after a run). */
async function dropTables(target: Target, tables: string[]): Promise<void> {
  if (target === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: databaseUrl(target) });
    await client.connect();
    for (const table of tables) await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  } else if (target === 'mysql') {
    const { createConnection } = await import('mysql2/promise');
    const connection = await createConnection({ uri: databaseUrl(target) });
    for (const table of tables) await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
    await connection.end();
  }
}

/** `kefu sync -c kefu.json --from … --to … --json` in a fresh directory. */
async function kefuRun(target: Target, source: Source, batchSize?: number): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), `kefu-bench-cli-${target}-`));
  const table = `bench_cli_${process.pid}_${target}`;
  const tables = [table, `${table}_cp`, `${table}_migrations`];
  try {
    await dropTables(target, tables);
    writeConfig(dir, target, source, table, batchSize);
    const { from, to } = benchRange();
    const run = await measureChild([process.execPath, CLI_BIN, ...syncArgs(from, to)], { cwd: dir });
    const summary = JSON.parse(run.stdout) as { targets: Array<{ records: number }> };
    return { ...run, records: summary.targets.reduce((sum, item) => sum + item.records, 0) };
  } finally {
    await dropTables(target, tables);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bare script for `target` in a fresh directory. */
async function bareRun(target: Target, source: Source): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), `kefu-bench-bare-${target}-`));
  const table = `bench_bare_${process.pid}_${target}`;
  try {
    const { from, to } = benchRange();
    const task: BareTask = {
      target,
      ...source,
      from: from.toISOString(),
      to: to.toISOString(),
      dir,
      table,
      ...(target === 'postgres' || target === 'mysql' ? { databaseUrl: databaseUrl(target) } : {}),
    };
    const run = await measureChild([process.execPath, join(here, 'bare-sync.js'), JSON.stringify(task)]);
    return { ...run, records: (JSON.parse(run.stdout) as { records: number }).records };
  } finally {
    await dropTables(target, [table]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const thousands = (value: number) => Math.round(value).toLocaleString('en-US').replaceAll(',', ' ');

/** One table row per target: kefu and bare medians over `runs` alternating runs. */
async function benchTarget(target: Target, source: Source, runs: number, batchSize?: number): Promise<string> {
  const kefu: ChildRun[] = [];
  const bare: ChildRun[] = [];
  for (let run = 0; run < runs; run++) {
    kefu.push(await kefuRun(target, source, batchSize));
    bare.push(await bareRun(target, source));
  }
  const rate = (runsOf: ChildRun[]) => median(runsOf.map((item) => item.records / item.seconds));
  const rss = (runsOf: ChildRun[]) => Math.max(...runsOf.map((item) => item.peakRssMiB));
  const records = kefu[0]?.records ?? 0;
  if (bare.some((item) => item.records !== records) || kefu.some((item) => item.records !== records)) {
    throw benchError(
      'BENCH_CHILD_FAILED',
      `${target}: kefu and the bare script read different record counts (${kefu.map((item) => item.records)} vs ${bare.map((item) => item.records)})`,
    );
  }
  const cells = [
    target,
    thousands(records),
    `${thousands(rate(kefu))} rec/s (${median(kefu.map((item) => item.seconds)).toFixed(1)} s)`,
    `${rss(kefu)} MiB`,
    `${thousands(rate(bare))} rec/s (${median(bare.map((item) => item.seconds)).toFixed(1)} s)`,
    `${rss(bare)} MiB`,
    (rate(kefu) / rate(bare)).toFixed(2),
  ];
  return `| ${cells.join(' | ')} |`;
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    targets: { type: 'string', default: TARGETS.join(',') },
    runs: { type: 'string', default: '1' },
    markdown: { type: 'string' },
    'batch-size': { type: 'string' },
    'sink-config': { type: 'string' },
  },
});
/** Extra settings of the sink under test (the bench's default is none: the sink's defaults). */
const sinkConfig = JSON.parse(values['sink-config'] ?? '{}') as Record<string, unknown>;
const records = Number(values.records);
const runs = Number(values.runs);
const targets = values.targets.split(',') as Target[];
const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
if (!Number.isInteger(records) || records < 100 || !Number.isInteger(runs) || runs < 1) {
  throw benchError('BENCH_OPTIONS_INVALID', '--records (≥ 100) and --runs (≥ 1) take whole numbers');
}
for (const target of targets) {
  if (!TARGETS.includes(target)) throw benchError('BENCH_OPTIONS_INVALID', `unknown target ${target}`);
}
if (!existsSync(CLI_BIN)) throw benchError('BENCH_OPTIONS_INVALID', `build the CLI first (${CLI_BIN} is missing)`);

const emulator = await startEmulatorProcess(emulatorOptionsFor(records));
const lines = [
  `kefu sync (CLI, config file, ${batchSize === undefined ? 'no flags' : `sync.batchSize ${batchSize}`}${values['sink-config'] ? `, sink config ${values['sink-config']}` : ''}) vs bare script, about ${thousands(records)} records, ${runs} run(s) each, ${new Date().toISOString()}`,
  '',
  '| target | records | kefu sync | kefu peak RSS | bare script | bare peak RSS | ratio |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
try {
  for (const target of targets) lines.push(await benchTarget(target, emulator, runs, batchSize));
} finally {
  await emulator.stop();
}
const text = lines.join('\n');
console.log(text);
if (values.markdown) writeFileSync(values.markdown, `${text}\n`);
