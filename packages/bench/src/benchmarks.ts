import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { type BenchRow, type BenchTable, formatNumber } from './bench-report.js';
import type { SinkKind, WorkerResult, WorkerTask } from './bench-worker.js';
import { type EmulatorProcess, runWorker, startEmulatorProcess } from './child-processes.js';
import { benchError } from './errors.js';
import { createMemoryCgroup } from './memory-cgroup.js';
import { benchRange, CEILING_PAGE_SIZE, emulatorOptionsFor } from './scenario.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Records per batch in every kefu sync and every bare-driver transaction. */
export const BATCH_SIZE = 1000;
/** Targets of issue 9. */
export const TARGETS = { ceilingRatio: 0.7, peakRssMiB: 150, naiveSpeedup: 10, scalingRatio: 1.2 } as const;

/** Where the database servers are (the integration-test variables and defaults). */
export const DATABASE_URLS = {
  postgres: process.env.KEFU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.KEFU_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
} as const;

/** True when a TCP connection to the server of `url` opens within 2 s. */
export function serverReachable(url: string): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol.startsWith('postgres') ? 5432 : 3306));
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Drops the tables a DatabaseSink created (records, checkpoints, migrations). */
async function dropSinkTables(dialect: 'postgres' | 'mysql', table: string): Promise<void> {
  const tables = [table, `${table}_cp`, `${table}_migrations`];
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: DATABASE_URLS.postgres });
    await client.connect();
    for (const name of tables) await client.query(`DROP TABLE IF EXISTS "${name}"`);
    await client.end();
  } else {
    const connection = await mysql.createConnection({ uri: DATABASE_URLS.mysql });
    for (const name of tables) await connection.query(`DROP TABLE IF EXISTS \`${name}\``);
    await connection.end();
  }
}

const rate = (result: WorkerResult) => result.records / (result.ms / 1000);
const perSecond = (value: number) => `${formatNumber(value)} rec/s`;

/**
 * Runs of each throughput task at a volume: the median run is reported, so one disturbed
 * run (the machine is shared) does not decide a ratio. A database run at 1 M takes minutes: once.
 */
function runsAt(volume: number, database: boolean): number {
  return database && volume > 100_000 ? 1 : 3;
}

/** A task's median run (by rate) and the lowest and highest rates of all its runs. */
interface MedianRun extends WorkerResult {
  runs: number;
  lowest: number;
  highest: number;
}

/** Runs `task` `runs` times, each in a fresh process; `taskOfRun` varies it per run (e.g. its table). */
async function medianRun(runs: number, taskOfRun: (run: number) => WorkerTask): Promise<MedianRun> {
  const results: WorkerResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await runWorker(taskOfRun(run)));
  results.sort((a, b) => rate(a) - rate(b));
  const median = results[Math.floor(results.length / 2)] as WorkerResult;
  return { ...median, runs, lowest: rate(results[0] as WorkerResult), highest: rate(results.at(-1) as WorkerResult) };
}

/** `166 727 rec/s` for one run, `166 727 rec/s (median of 3: 158 112–171 003)` for more. */
const medianPerSecond = (result: MedianRun) =>
  result.runs === 1
    ? perSecond(rate(result))
    : `${perSecond(rate(result))} (median of ${result.runs}: ${formatNumber(result.lowest)}–${formatNumber(result.highest)})`;

/** Figures of one volume, reused by the scaling and RSS benchmarks. */
export interface ThroughputFigures {
  volume: number;
  records: number;
  fetchCeiling: number;
  kefu: Partial<Record<SinkKind | 'null-unvalidated' | 'null-ceiling-pages', number>>;
  /** Bare-driver insert rates of the databases. */
  insertCeilings: Partial<Record<'sqlite' | 'postgres' | 'mysql', number>>;
  table: BenchTable;
}

/** The source part of every task on `emulator`. */
function sourceOf(emulator: EmulatorProcess) {
  const { from, to } = benchRange();
  return {
    url: emulator.url,
    appId: emulator.appId,
    secret: emulator.secret,
    from: from.toISOString(),
    to: to.toISOString(),
  };
}

/** What every measurement of one throughput run shares: the source, the fetch ceiling, and where figures go. */
interface ThroughputRun {
  volume: number;
  source: ReturnType<typeof sourceOf>;
  fetched: MedianRun;
  fetchCeiling: number;
  rows: BenchRow[];
  kefu: ThroughputFigures['kefu'];
  insertCeilings: ThroughputFigures['insertCeilings'];
  log: (line: string) => void;
}

/**
 * kefu → `sink`, `runs` times; `optionsOfRun` adds to (or varies per run) the task's options.
 * Every run must sync all the records the fetch ceiling saw.
 */
async function syncRuns(
  run: ThroughputRun,
  sink: SinkKind,
  optionsOfRun: (index: number) => Partial<Extract<WorkerTask, { task: 'kefu' }>> = () => ({}),
  runs = runsAt(run.volume, false),
): Promise<MedianRun> {
  const result = await medianRun(runs, (index) => ({
    task: 'kefu',
    ...run.source,
    sink,
    batchSize: BATCH_SIZE,
    validate: true,
    ...optionsOfRun(index),
  }));
  if (result.records !== run.fetched.records) {
    throw benchError(
      'BENCH_CHILD_FAILED',
      `kefu → ${sink} synced ${result.records} records, the emulator holds ${run.fetched.records}`,
    );
  }
  return result;
}

const cpuPerRecord = (result: WorkerResult) => `${(((result.cpuMs ?? 0) * 1000) / result.records).toFixed(1)} µs`;

/** kefu → null sink: the provider's default pages (2 000: memory), unvalidated, and the ceiling's pages. */
async function measureNullSyncs(run: ThroughputRun): Promise<void> {
  const { rows, kefu, log, fetchCeiling } = run;
  const nullVariants = [
    { label: 'null', measure: 'kefu → null sink', options: {} },
    { label: 'null-unvalidated', measure: 'kefu → null sink (validate: false)', options: { validate: false } },
    {
      label: 'null-ceiling-pages',
      measure: `kefu → null sink (pages of ${formatNumber(CEILING_PAGE_SIZE)}, as the ceiling)`,
      options: { pageSize: CEILING_PAGE_SIZE },
    },
  ] as const;
  for (const { label, measure, options } of nullVariants) {
    const result = await syncRuns(run, 'null', () => options);
    kefu[label] = rate(result);
    log(`  kefu → ${label}: ${medianPerSecond(result)}, CPU ${cpuPerRecord(result)}/record`);
    if (label === 'null') {
      rows.push({
        measure: 'CPU time per record of the process (all threads): kefu → null vs fetch ceiling',
        figure: `${cpuPerRecord(result)} vs ${cpuPerRecord(run.fetched)}`,
      });
    }
    rows.push({
      measure,
      figure: medianPerSecond(result),
      ceiling: 'fetch',
      ratio: rate(result) / fetchCeiling,
      target: `≥ ${TARGETS.ceilingRatio}`,
      pass: rate(result) / fetchCeiling >= TARGETS.ceilingRatio,
    });
  }
}

/** kefu → JSONL (fsync per batch) against the fetch ceiling. */
async function measureJsonlSync(run: ThroughputRun): Promise<void> {
  const jsonl = await syncRuns(run, 'jsonl');
  run.kefu.jsonl = rate(jsonl);
  run.log(`  kefu → jsonl: ${medianPerSecond(jsonl)}`);
  run.rows.push({
    measure: 'kefu → JSONL (fsync per batch)',
    figure: medianPerSecond(jsonl),
    ceiling: 'fetch',
    ratio: rate(jsonl) / run.fetchCeiling,
    target: `≥ ${TARGETS.ceilingRatio}`,
    pass: rate(jsonl) / run.fetchCeiling >= TARGETS.ceilingRatio,
  });
}

/** The bare-driver insert ceiling of `dialect` and kefu → `dialect` against it (skipped when the server is down). */
async function measureDatabaseSync(run: ThroughputRun, dialect: 'sqlite' | 'postgres' | 'mysql'): Promise<void> {
  const { rows, log, fetchCeiling, volume, source } = run;
  const databaseUrl = dialect === 'sqlite' ? undefined : DATABASE_URLS[dialect];
  if (databaseUrl && !(await serverReachable(databaseUrl))) {
    rows.push({ measure: `kefu → ${dialect}`, figure: `skipped: ${new URL(databaseUrl).host} unreachable` });
    return;
  }
  const table = `bench_${process.pid}_${dialect}_${volume}`;
  const runs = runsAt(volume, true);
  // Each kefu run syncs into tables of its own: the sink is its checkpoint store, so a
  // second run into the same tables would resume at the end and sync nothing.
  const runTable = (index: number) => `${table}_r${index}`;
  try {
    const ceiling = await medianRun(runs, () => ({
      task: 'insert',
      ...source,
      dialect,
      table: `${table}_bare`,
      batchSize: BATCH_SIZE,
      ...(databaseUrl ? { databaseUrl } : {}),
    }));
    const result = await syncRuns(
      run,
      dialect,
      (index) => ({ table: runTable(index), ...(databaseUrl ? { databaseUrl } : {}) }),
      runs,
    );
    run.kefu[dialect] = rate(result);
    run.insertCeilings[dialect] = rate(ceiling);
    const relevant = Math.min(fetchCeiling, rate(ceiling));
    log(`  kefu → ${dialect}: ${medianPerSecond(result)}; bare insert ${medianPerSecond(ceiling)}`);
    rows.push({ measure: `bare ${dialect} insert ceiling`, figure: medianPerSecond(ceiling) });
    rows.push({
      measure: `kefu → ${dialect} (vs fetch ceiling)`,
      figure: medianPerSecond(result),
      ceiling: 'fetch',
      ratio: rate(result) / fetchCeiling,
    });
    rows.push({
      measure: `kefu → ${dialect} (vs insert ceiling = relevant)`,
      figure: medianPerSecond(result),
      ceiling: `min(fetch, insert) ${perSecond(relevant)}`,
      ratio: rate(result) / relevant,
      target: `≥ ${TARGETS.ceilingRatio}`,
      pass: rate(result) / relevant >= TARGETS.ceilingRatio,
    });
  } finally {
    if (dialect !== 'sqlite') for (let index = 0; index < runs; index++) await dropSinkTables(dialect, runTable(index));
  }
}

/**
 * Fetch ceiling, end-to-end syncs into a null sink (with and without record validation),
 * JSONL, SQLite, PostgreSQL and MySQL, and the bare-driver insert ceiling of each database,
 * measured in the order the report prints them.
 */
export async function throughputBenchmark(volume: number, log: (line: string) => void): Promise<ThroughputFigures> {
  const emulator = await startEmulatorProcess(emulatorOptionsFor(volume));
  const source = sourceOf(emulator);
  try {
    const fetched = await medianRun(runsAt(volume, false), () => ({ task: 'fetch', ...source }));
    const fetchCeiling = rate(fetched);
    log(`  fetch ceiling: ${medianPerSecond(fetched)} (${fetched.records} records, ${fetched.pages} pages)`);
    const run: ThroughputRun = {
      volume,
      source,
      fetched,
      fetchCeiling,
      rows: [{ measure: 'fetch ceiling (bare undici + JSON.parse)', figure: medianPerSecond(fetched) }],
      kefu: {},
      insertCeilings: {},
      log,
    };
    await measureNullSyncs(run);
    await measureJsonlSync(run);
    for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) await measureDatabaseSync(run, dialect);
    return {
      volume,
      records: fetched.records,
      fetchCeiling,
      kefu: run.kefu,
      insertCeilings: run.insertCeilings,
      table: {
        title: `Throughput, ${formatNumber(fetched.records)} records (emulator in its own process, loopback)`,
        rows: run.rows,
        notes: [
          `Each rate is the median of ${runsAt(volume, false)} runs (database syncs and bare inserts: ${runsAt(volume, true)}), each in a fresh process; ratios compare medians.`,
          `Batches of ${BATCH_SIZE} records for kefu and for every bare-driver transaction; getmsglist pages of 10 000 (the API maximum) for the ceilings, the provider's default of 2 000 for kefu.`,
          'The relevant ceiling of a database sync is the lower of the fetch and the bare insert ceilings.',
        ],
      },
    };
  } finally {
    await emulator.stop();
  }
}

/**
 * The Node settings of a memory-bounded deployment (docs/guides/running-at-scale.md):
 * V8 otherwise sizes its young generation and lets old garbage pile up by the machine's
 * memory, not by what the process keeps alive.
 */
export const BOUNDED_HEAP_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=128'] as const;

/** The memory limit of the container the RSS benchmark emulates with a cgroup (Node sizes its heap from it). */
export const CONTAINER_LIMIT_MIB = 512;

/**
 * Peak RSS of a sync into a sink ten times slower than the fetch ceiling (the target),
 * and of one into the null sink (what the bounded heap costs in throughput), with Node's
 * default heap settings, with {@link BOUNDED_HEAP_FLAGS}, and with the defaults in a
 * memory cgroup of {@link CONTAINER_LIMIT_MIB} (when this machine lets the benchmark make one).
 */
export async function peakRssBenchmark(
  volume: number,
  fetchCeiling: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const emulator = await startEmulatorProcess(emulatorOptionsFor(volume));
  const cgroup = createMemoryCgroup(CONTAINER_LIMIT_MIB * 1024 * 1024, `kefu-bench-${process.pid}-${volume}`);
  try {
    // A sink at a tenth of the source's rate: each batch takes 10× its fetch time.
    const slowBatchMs = (BATCH_SIZE / (fetchCeiling / 10)) * 1000;
    const rows: BenchRow[] = [];
    const inContainer = `Node defaults in a ${CONTAINER_LIMIT_MIB} MiB memory cgroup`;
    if ('unavailable' in cgroup)
      rows.push({ measure: `peak RSS, ${inContainer}`, figure: `skipped: ${cgroup.unavailable}` });
    // The flags the kefu bin starts with (memory-defaults.ts), read from the built CLI.
    const cliDefaults = (await import(pathToFileURL(join(here, '../../cli/dist/memory-defaults.js')).href)) as {
      CLI_HEAP_FLAGS: readonly string[];
    };
    const settings: Array<readonly [string, readonly string[], string | undefined]> = [
      ['Node defaults', [], undefined],
      [`the kefu bin's defaults (${cliDefaults.CLI_HEAP_FLAGS.join(' ')})`, cliDefaults.CLI_HEAP_FLAGS, undefined],
      [BOUNDED_HEAP_FLAGS.join(' '), BOUNDED_HEAP_FLAGS, undefined],
      ...('procs' in cgroup ? [[inContainer, [], cgroup.procs] as const] : []),
    ];
    for (const [label, flags, procs] of settings) {
      const task = { task: 'kefu', ...sourceOf(emulator), batchSize: BATCH_SIZE, validate: true } as const;
      const slow = await runWorker({ ...task, sink: 'slow', slowBatchMs }, flags, procs);
      const fast = await runWorker({ ...task, sink: 'null' }, flags, procs);
      log(
        `  ${label}: slow sink (${slowBatchMs.toFixed(1)} ms/batch) peak RSS ${slow.maxRssMiB} MiB; null sink ${perSecond(rate(fast))}, peak RSS ${fast.maxRssMiB} MiB (${slow.records} records)`,
      );
      rows.push({
        measure: `peak RSS, ${formatNumber(slow.records)} records, sink 10× slower (${perSecond(rate(slow))}), ${label}`,
        figure: `${slow.maxRssMiB} MiB`,
        ratio: slow.maxRssMiB / TARGETS.peakRssMiB,
        target: `≤ ${TARGETS.peakRssMiB} MiB`,
        pass: slow.maxRssMiB <= TARGETS.peakRssMiB,
      });
      rows.push({
        measure: `peak RSS, ${formatNumber(fast.records)} records, null sink at full speed (${perSecond(rate(fast))}), ${label}`,
        figure: `${fast.maxRssMiB} MiB`,
      });
    }
    return rows;
  } finally {
    if ('procs' in cgroup) await cgroup.remove();
    await emulator.stop();
  }
}

/**
 * Per-record cost at the large volume over the small one, per sink. For the databases
 * also kefu's own share: the cost above the bare insert of the same rows at that volume
 * (a table's indexes make every insert dearer as it grows, with or without kefu).
 */
export function scalingRows(small: ThroughputFigures, large: ThroughputFigures): BenchRow[] {
  const rows: BenchRow[] = [];
  const volumes = `${formatNumber(large.records)} vs ${formatNumber(small.records)}`;
  const row = (measure: string, largeMicros: number, smallMicros: number): BenchRow => ({
    measure,
    figure: `${largeMicros.toFixed(2)} µs vs ${smallMicros.toFixed(2)} µs`,
    ratio: largeMicros / smallMicros,
    target: `≤ ${TARGETS.scalingRatio}`,
    pass: largeMicros / smallMicros <= TARGETS.scalingRatio,
  });
  for (const sink of Object.keys(large.kefu) as Array<keyof ThroughputFigures['kefu']>) {
    const smallRate = small.kefu[sink];
    const largeRate = large.kefu[sink];
    if (!smallRate || !largeRate) continue;
    rows.push(row(`per-record cost, kefu → ${sink}: ${volumes}`, 1e6 / largeRate, 1e6 / smallRate));
    if (sink !== 'sqlite' && sink !== 'postgres' && sink !== 'mysql') continue;
    const smallInsert = small.insertCeilings[sink];
    const largeInsert = large.insertCeilings[sink];
    if (!smallInsert || !largeInsert) continue;
    const measure = `kefu's own per-record cost (above the bare insert), → ${sink}: ${volumes}`;
    const largeShare = 1e6 / largeRate - 1e6 / largeInsert;
    const smallShare = 1e6 / smallRate - 1e6 / smallInsert;
    if (largeShare > 0 && smallShare > 0) {
      rows.push(row(measure, largeShare, smallShare));
      continue;
    }
    // A share at or below zero is the bare insert's own noise: a ratio of it means nothing.
    const figure = `${largeShare.toFixed(2)} µs vs ${smallShare.toFixed(2)} µs`;
    rows.push(
      largeShare <= 0
        ? {
            measure,
            figure: `${figure} (none measurable at the large volume)`,
            target: `≤ ${TARGETS.scalingRatio}`,
            pass: true,
          }
        : { measure, figure: `${figure} (none measurable at the small volume: no ratio)` },
    );
  }
  return rows;
}

/** A serial loop (one page at a time, one INSERT per record) vs kefu → SQLite, with 20 ms latency per call. */
export async function naiveBaselineBenchmark(volume: number, log: (line: string) => void): Promise<BenchRow[]> {
  const emulator = await startEmulatorProcess(emulatorOptionsFor(volume, { latencyMs: 20 }));
  try {
    const source = sourceOf(emulator);
    const naive = await runWorker({ task: 'naive', ...source, budgetMs: 60_000 });
    const kefu = await runWorker({
      task: 'kefu',
      ...source,
      sink: 'sqlite',
      table: 'bench_naive',
      batchSize: BATCH_SIZE,
      validate: true,
    });
    log(
      `  naive: ${perSecond(rate(naive))}${naive.truncated ? ' (60 s budget)' : ''}; kefu → sqlite: ${perSecond(rate(kefu))}`,
    );
    const speedup = rate(kefu) / rate(naive);
    return [
      {
        measure: `naive serial loop → SQLite, 20 ms latency${naive.truncated ? ` (first ${formatNumber(naive.records)} records in 60 s)` : ''}`,
        figure: perSecond(rate(naive)),
      },
      {
        measure: `kefu → SQLite, 20 ms latency, ${formatNumber(kefu.records)} records`,
        figure: perSecond(rate(kefu)),
        ceiling: `naive ${perSecond(rate(naive))}`,
        ratio: speedup,
        target: `≥ ${TARGETS.naiveSpeedup}×`,
        pass: speedup >= TARGETS.naiveSpeedup,
      },
    ];
  } finally {
    await emulator.stop();
  }
}

/** Per-record cost of each stage of the WeChat path (explains the gap to the fetch ceiling). */
export async function stageCostBenchmark(volume: number, log: (line: string) => void): Promise<BenchTable> {
  const emulator = await startEmulatorProcess(emulatorOptionsFor(volume));
  try {
    const result = await runWorker({ task: 'stages', ...sourceOf(emulator) });
    const rows: BenchRow[] = [];
    for (const [stage, ms] of Object.entries(result.stages ?? {})) {
      const perRecord = (ms * 1000) / result.records;
      log(`  ${stage}: ${perRecord.toFixed(2)} µs/record`);
      rows.push({
        measure: stage,
        figure: `${perRecord.toFixed(2)} µs/record`,
        ceiling: perSecond(result.records / (ms / 1000)),
      });
    }
    return {
      title: `Stage costs, ${formatNumber(result.records)} records (each stage alone, same pages)`,
      rows,
      notes: ['The "ceiling" column is the rate that stage alone would allow.'],
    };
  } finally {
    await emulator.stop();
  }
}
