// CPU time per record of several builds of `kefu sync` → JSONL and of the bare JSONL script,
// in alternating rounds on one emulator: user + system seconds (`/usr/bin/time`) of a sync
// over the bench range minus a sync of its first hour (the start), over the records between.
// Prints each run and, per build, the median and its share above the bare script.
// Usage: node scripts/cpu-probe.mjs [records=100000] [rounds=3] [name=path/to/cli/dist/bin.js …]
// (no build named: this checkout's CLI). Imports the built dist; build every checkout first.
// NODE_OPTIONS=--cpu-prof --cpu-prof-dir=DIR profiles every run; CPU_PROBE_STDERR=1 shows the children's stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorProcess } from '../dist/child-processes.js';
import { benchRange, emulatorOptionsFor, jsonlSyncConfig, syncArgs } from '../dist/scenario.js';

const [recordsArg, roundsArg, ...buildArgs] = process.argv.slice(2);
const records = Number(recordsArg ?? 100_000);
const rounds = Number(roundsArg ?? 3);
const builds = new Map(
  buildArgs.length > 0
    ? buildArgs.map((arg) => arg.split('='))
    : [['this', join(import.meta.dirname, '../../cli/dist/bin.js')]],
);
const bareScript = join(import.meta.dirname, '../dist/bare-sync.js');
const emu = await startEmulatorProcess(emulatorOptionsFor(records));

/** Runs `node …args` in `dir` under /usr/bin/time: stdout, CPU seconds, peak RSS (MiB). */
async function timed(args, dir) {
  const timeFile = join(dir, 'time.txt');
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', process.execPath, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', process.env.CPU_PROBE_STDERR ? 'inherit' : 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${out}`);
  const [wall, user, sys, kib] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { out, wall, cpu: user + sys, rssMiB: Math.round(kib / 1024) };
}

/** One sync of [from, to) by `name` (a build or `bare`) in a fresh directory. */
async function sync(name, from, to) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-cpu-probe-'));
  try {
    if (name === 'bare') {
      const task = { target: 'jsonl', ...emu, from: from.toISOString(), to: to.toISOString(), dir, table: 'unused' };
      const run = await timed([bareScript, JSON.stringify(task)], dir);
      return { ...run, records: JSON.parse(run.out.trim().split('\n').at(-1)).records };
    }
    writeFileSync(join(dir, 'kefu.json'), JSON.stringify(jsonlSyncConfig(emu)));
    const args = [builds.get(name), ...syncArgs(from, to)];
    const run = await timed(args, dir);
    return { ...run, records: JSON.parse(run.out).records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const { from, to } = benchRange();
const hour = new Date(from.getTime() + 3_600_000);
const names = [...builds.keys(), 'bare'];
const perRecord = new Map(names.map((name) => [name, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const start = await sync(name, from, hour);
      const full = await sync(name, from, to);
      const us = ((full.cpu - start.cpu) / (full.records - start.records)) * 1e6;
      perRecord.get(name).push(us);
      console.log(
        JSON.stringify({
          round,
          name,
          load,
          records: full.records,
          cpuUsPerRecord: +us.toFixed(2),
          wall: full.wall,
          peakRssMiB: full.rssMiB,
        }),
      );
    }
  }
  const bare = median(perRecord.get('bare'));
  for (const name of names) {
    const us = median(perRecord.get(name));
    console.log(JSON.stringify({ name, medianCpuUsPerRecord: +us.toFixed(2), aboveBare: +(us - bare).toFixed(2) }));
  }
} finally {
  await emu.stop();
}
