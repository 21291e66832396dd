// CPU time per record of `kefu sync` → JSONL (the built CLI, a config file, default settings):
// user + system seconds of the child (`/usr/bin/time`; the kefu bin re-executes itself in
// the same process) over the bench range, minus a sync of its first hour (the CLI's start and
// module loading), divided by the records between them. Runs alternate; prints each run and
// the median. Imports the built dist.
// Usage: node scripts/cpu-probe.mjs [records=100000] [runs=3]
// (NODE_OPTIONS=--cpu-prof --cpu-prof-dir=DIR profiles every run.)

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorProcess } from '../dist/child-processes.js';
import { benchRange, emulatorOptionsFor, jsonlSyncConfig, syncArgs } from '../dist/scenario.js';

const records = Number(process.argv[2] ?? 100000);
const runs = Number(process.argv[3] ?? 3);
const emu = await startEmulatorProcess(emulatorOptionsFor(records));
const bin = join(import.meta.dirname, '../../cli/dist/bin.js');

/** One `kefu sync` over [from, to) into a fresh directory: records, wall and CPU seconds. */
async function syncOnce(from, to) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-cpu-'));
  try {
    writeFileSync(join(dir, 'kefu.json'), JSON.stringify(jsonlSyncConfig(emu)));
    const timeFile = join(dir, 'time.txt');
    const child = spawn(
      '/usr/bin/time',
      ['-o', timeFile, '-f', '%e %U %S %M', process.execPath, bin, ...syncArgs(from, to)],
      { cwd: dir, stdio: ['ignore', 'pipe', process.env.CPU_PROBE_STDERR ? 'inherit' : 'ignore'], env: process.env },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`kefu sync exited ${code}: ${out}`);
    const [wall, user, sys, maxKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    const n = JSON.parse(out).targets.reduce((sum, target) => sum + target.records, 0);
    return { records: n, wall, cpu: user + sys, maxRssMiB: Math.round(maxKiB / 1024) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const { from, to } = benchRange();
const hour = new Date(from.getTime() + 3_600_000);
const perRecord = [];
try {
  for (let run = 0; run < runs; run++) {
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const start = await syncOnce(from, hour);
    const full = await syncOnce(from, to);
    const us = ((full.cpu - start.cpu) / (full.records - start.records)) * 1e6;
    perRecord.push(us);
    console.log(
      JSON.stringify({
        run,
        load,
        start,
        full,
        cpuUsPerRecord: +us.toFixed(2),
        loadAfter: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
      }),
    );
  }
  console.log(JSON.stringify({ records, runs, medianCpuUsPerRecord: +median(perRecord).toFixed(2) }));
} finally {
  await emu.stop();
}
