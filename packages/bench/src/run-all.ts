/**
 * Runs the benchmarks and prints their tables (markdown). `pnpm bench` at the root builds
 * first; here: `node dist/run-all.js [--quick] [--only throughput,rss,scaling,naive] [--markdown FILE]`.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { type BenchTable, tableMarkdown } from './bench-report.js';
import {
  naiveBaselineBenchmark,
  peakRssBenchmark,
  scalingRows,
  stageCostBenchmark,
  type ThroughputFigures,
  throughputBenchmark,
} from './benchmarks.js';
import { benchError } from './errors.js';

const BENCHMARKS = ['throughput', 'stages', 'rss', 'scaling', 'naive'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

const USAGE = `Usage: node dist/run-all.js [options]
  --quick            100 k records only (scaling compares 100 k with 20 k)
  --only LIST        comma-separated subset of: ${BENCHMARKS.join(', ')}
  --markdown FILE    also write the tables and the machine description to FILE
  --help             this text`;

/** The machine the figures come from. */
function machineDescription(): string {
  const memory = (() => {
    try {
      return execSync('free -h', { encoding: 'utf8' }).trim();
    } catch {
      return `${(totalmem() / 2 ** 30).toFixed(1)} GiB total`;
    }
  })();
  return [
    `- date: ${new Date().toISOString()}`,
    `- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} (nproc ${cpus().length})`,
    `- Node ${process.version}, ${process.platform} ${process.arch}`,
    '- memory (`free -h`):',
    '',
    '```',
    memory,
    '```',
  ].join('\n');
}

/** Prints a bad-input error as one line (no stack) and exits 2. */
function refuse(message: string): never {
  const error = benchError('BENCH_OPTIONS_INVALID', `${message}\n${USAGE}`);
  console.error(`${error.code}: ${error.message}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      // `pnpm --filter @kefu/bench bench -- --quick` passes the `--` through.
      args: process.argv.slice(2).filter((arg) => arg !== '--'),
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        markdown: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (cause) {
    return refuse((cause as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const selected = new Set<BenchmarkName>();
for (const name of (values.only ?? BENCHMARKS.join(',')).split(',').map((entry) => entry.trim())) {
  if (!(BENCHMARKS as readonly string[]).includes(name)) {
    refuse(`--only: unknown benchmark "${name}"`);
  }
  selected.add(name as BenchmarkName);
}
const large = values.quick ? 100_000 : 1_000_000;
const small = values.quick ? 20_000 : 100_000;
const log = (line: string) => console.error(line);
const tables: BenchTable[] = [];

const figures = new Map<number, ThroughputFigures>();
const throughput = async (volume: number) => {
  let known = figures.get(volume);
  if (!known) {
    log(`throughput at ${volume} records…`);
    known = await throughputBenchmark(volume, log);
    figures.set(volume, known);
  }
  return known;
};

if (selected.has('throughput')) {
  for (const volume of values.quick ? [large] : [small, large]) tables.push((await throughput(volume)).table);
}
if (selected.has('stages')) {
  log(`stage costs at ${small} records…`);
  tables.push(await stageCostBenchmark(small, log));
}
if (selected.has('scaling')) {
  const rows = scalingRows(await throughput(small), await throughput(large));
  tables.push({ title: 'Scaling: per-record cost', rows });
}
if (selected.has('rss')) {
  log(`peak RSS at ${large} records…`);
  const fetchCeiling = (figures.get(large) ?? figures.get(small) ?? (await throughput(small))).fetchCeiling;
  const rows = await peakRssBenchmark(small, fetchCeiling, log);
  if (large !== small) rows.push(...(await peakRssBenchmark(large, fetchCeiling, log)));
  tables.push({
    title: 'Peak RSS of the sync process (slow sink: the target; null sink: what the bounded heap costs)',
    rows,
    notes: ['`process.resourceUsage().maxRSS` of the sync process; the emulator runs in another process.'],
  });
}
if (selected.has('naive')) {
  log('naive baseline…');
  tables.push({ title: 'Naive baseline (20 ms injected latency)', rows: await naiveBaselineBenchmark(small, log) });
}

const markdown = tables.map(tableMarkdown).join('\n');
console.log(markdown);
if (values.markdown) writeFileSync(values.markdown, `## Machine\n\n${machineDescription()}\n\n${markdown}`);
const missed = tables.flatMap((table) => table.rows).filter((row) => row.pass === false).length;
console.error(missed === 0 ? 'every target met' : `${missed} target(s) missed`);
