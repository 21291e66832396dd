// Peak memory of `kefu sync` (the built CLI, a config file) taken apart: samples /proc/PID/status
// every 25 ms and prints the maximum of VmHWM, RssAnon (heap, malloc, SQLite's page cache),
// RssFile (the node binary, libraries, mmap) and RssShmem. Imports the built dist.
// Usage: node scripts/rss-probe.mjs [records=100000] ['{"cacheSizeMiB":8}'] [sqlite|postgres|jsonl] ['{"maxBufferedBytes":8388608}']
// (the last argument: the config file's `sync` block; the load average is printed beside the figures)

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorProcess } from '../dist/child-processes.js';
import { benchProviderEntry, benchRange, emulatorOptionsFor, syncArgs } from '../dist/scenario.js';

const records = Number(process.argv[2] ?? 100000);
const sinkJson = process.argv[3] ?? '{}';
const target = process.argv[4] ?? 'sqlite';
const syncJson = process.argv[5] ?? '{}';
const emu = await startEmulatorProcess(emulatorOptionsFor(records));
const dir = mkdtempSync(join(tmpdir(), 'kefu-rss-'));
try {
  const table = `rss_${process.pid}`;
  const sink =
    target === 'jsonl'
      ? { use: '@kefu/sink-file', id: 'out', config: { dir: './out', ...JSON.parse(sinkJson) } }
      : {
          use: '@kefu/sink-db',
          id: 'db',
          config: {
            url: target === 'sqlite' ? './kefu.db' : process.env.KEFU_TEST_POSTGRES_URL,
            table,
            checkpointTable: `${table}_cp`,
            ...JSON.parse(sinkJson),
          },
        };
  writeFileSync(
    join(dir, 'kefu.json'),
    JSON.stringify({
      providers: [benchProviderEntry(emu)],
      sinks: [sink],
      sync: JSON.parse(syncJson),
      checkpoints: target === 'jsonl' ? { use: 'file', path: './checkpoints.json' } : { use: 'sink', sink: 'db' },
    }),
  );
  const { from, to } = benchRange();
  const started = performance.now();
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../cli/dist/bin.js'), ...syncArgs(from, to)], {
    cwd: dir,
    stdio: ['ignore', 'pipe', process.env.RSS_PROBE_STDERR ? 'inherit' : 'ignore'],
    env: process.env,
  });
  const peak = {};
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      for (const key of ['VmHWM', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'Threads']) {
        const v = Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / (key === 'Threads' ? 1 : 1024);
        peak[key] = Math.max(peak[key] ?? 0, Math.round(v));
      }
    } catch {}
  }, 25);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const n = JSON.parse(out).targets.reduce((s, t) => s + t.records, 0);
  console.log(
    JSON.stringify({
      target,
      sink: sinkJson,
      sync: syncJson,
      records: n,
      seconds: +seconds.toFixed(1),
      rate: Math.round(n / seconds),
      ...peak,
      env: process.env.NODE_OPTIONS ?? '',
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  await emu.stop();
}
