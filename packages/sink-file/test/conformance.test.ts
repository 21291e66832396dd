import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSink } from '@kefu/testkit';
import { FileSink, type FileSinkConfigInput } from '../src/index.js';
import { readAllRecords } from './read-output.js';

// An already-open file cannot be broken and repaired from outside, so these variants
// turn the suite's failure check off; the last suite below and file-sink.test.ts (a real
// ENOSPC from /dev/full) cover write failures.
const variants: Array<[string, Omit<FileSinkConfigInput, 'dir'>]> = [
  ['jsonl', {}],
  ['csv', { format: 'csv' }],
  ['jsonl gzip', { gzip: true }],
  [
    'csv gzip, size rotation, interval fsync',
    { format: 'csv', gzip: true, maxBytes: 2_000, fsync: 'interval', fsyncIntervalMs: 5 },
  ],
];

for (const [name, config] of variants) {
  describeSink(
    `file sink (${name})`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-'));
      const sink = new FileSink({ ...config, dir });
      return { sink, readBack: () => readAllRecords(dir), teardown: () => rm(dir, { recursive: true, force: true }) };
    },
    { failureInjection: false },
  );
}

// Failure injection for real: every batch rotates to a new part, and directories put in
// the way of the next parts make opening them fail (EISDIR) until they are removed.
describeSink('file sink (a part per batch, failure injection)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-'));
  const sink = new FileSink({ dir, path: '{day}.{part}.jsonl', maxBytes: 1 });
  const obstacles = Array.from({ length: 9 }, (_, part) => join(dir, `2026-01-01.000${part + 1}.jsonl`));
  return {
    sink,
    readBack: () => readAllRecords(dir),
    breakSink: async () => {
      for (const path of obstacles) await mkdir(path, { recursive: true });
    },
    repairSink: async () => {
      for (const path of obstacles) await rm(path, { recursive: true, force: true });
    },
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
});
