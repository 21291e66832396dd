import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSink } from '@kefu/testkit';
import { FileSink, type FileSinkConfigInput } from '../src/index.js';
import { readAllRecords } from './read-output.js';

// Write failures are covered in file-sink.test.ts with a real ENOSPC (/dev/full): an
// already-open file cannot be broken and repaired from outside, so the suite's
// breakSink check is turned off here.
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
