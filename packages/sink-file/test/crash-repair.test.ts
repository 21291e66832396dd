import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isKefuError, type KefuRecord, type RecordBatch } from '@kefu/core';
import { makeRecords } from '@kefu/testkit';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink, type FileSinkConfigInput } from '../src/index.js';
import { listFiles, readAllRecords } from './read-output.js';

const STREAM = { provider: 'p', account: 'a' };

function batchOf(records: readonly KefuRecord[]): RecordBatch {
  return { stream: STREAM, checkpointKey: 'job/p/a', records, checkpoint: { ...STREAM, position: 0, skip: 0 } };
}

/** Records with text that stresses line-based repair: CSV newlines inside quotes, quotes, multi-byte text. */
function trickyRecords(count: number, offset = 0): KefuRecord[] {
  return makeRecords(count + offset, STREAM)
    .slice(offset)
    .map((record, index) => ({ ...record, text: `第${index}行 "q",\r\nnext\n🙂 ${'x'.repeat(index % 7)}` }));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-repair-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kinds: Array<[string, FileSinkConfigInput extends infer C ? Omit<C & object, 'dir'> : never]> = [
  ['jsonl', {}],
  ['csv', { format: 'csv' }],
  ['jsonl gzip', { gzip: true }],
  ['csv gzip', { format: 'csv', gzip: true }],
];

describe.each(kinds)('crash repair (%s)', (_name, config) => {
  // The reader picks the decoder from the extension.
  const out = `out.${config.format ?? 'jsonl'}${config.gzip ? '.gz' : ''}`;
  it('given a file cut at any byte, when reopened and appended to, then it parses and keeps every batch that ended before the cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (batchSizes, cutFraction) => {
          await rm(dir, { recursive: true, force: true });
          const records = trickyRecords(batchSizes.reduce((a, b) => a + b, 0) + 2);
          const sink = new FileSink({ ...config, dir, path: out });
          const batchEnds: Array<{ bytes: number; records: number }> = [];
          let used = 0;
          for (const size of batchSizes) {
            await sink.write(batchOf(records.slice(used, used + size)));
            used += size;
            batchEnds.push({ bytes: (await stat(join(dir, out))).size, records: used });
          }
          await sink.close();
          const total = batchEnds.at(-1)!.bytes;
          const cut = Math.floor(total * cutFraction);
          await truncate(join(dir, out), cut);

          const reopened = new FileSink({ ...config, dir, path: out });
          await reopened.write(batchOf(records.slice(used, used + 2)));
          await reopened.close();

          const ids = (await readAllRecords(dir)).map((r) => r.id);
          const survivors = batchEnds.filter((end) => end.bytes <= cut).at(-1)?.records ?? 0;
          const kept = ids.slice(0, -2);
          // Kept records are a prefix of what was written, and include every batch that ended before the cut.
          expect(kept).toEqual(records.slice(0, kept.length).map((r) => r.id));
          expect(kept.length).toBeGreaterThanOrEqual(survivors);
          expect(ids.slice(-2)).toEqual(records.slice(used, used + 2).map((r) => r.id));
        },
      ),
      { numRuns: 40, seed: 20_261_123 },
    );
  });

  it('given a tail of zeros left by a power loss, when reopened, then the zeros are cut', async () => {
    const sink = new FileSink({ ...config, dir, path: out });
    await sink.write(batchOf(trickyRecords(3)));
    await sink.close();
    await appendFile(join(dir, out), Buffer.alloc(4096));
    const reopened = new FileSink({ ...config, dir, path: out });
    await reopened.write(batchOf(trickyRecords(1, 3)));
    await reopened.close();
    expect((await readAllRecords(dir)).map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(reopened.stats.repairs).toBe(1);
  });
});

describe('crash repair safety', () => {
  it('refuses to touch a gzip file that kefu did not write', async () => {
    const foreign = gzipSync(Buffer.from('someone else\n'));
    await writeFile(join(dir, 'out'), foreign);
    const sink = new FileSink({ dir, path: 'out', gzip: true });
    const error = await sink.write(batchOf(trickyRecords(1))).then(
      () => undefined,
      (e: unknown) => e,
    );
    await sink.close();
    expect(isKefuError(error) && error.code).toBe('SINK_FILE_FOREIGN_FILE');
    expect(await readFile(join(dir, 'out'))).toEqual(foreign);
  });

  it('produces files standard gunzip reads whole (concatenated members)', async () => {
    const sink = new FileSink({ dir, gzip: true });
    for (let i = 0; i < 3; i++) await sink.write(batchOf(trickyRecords(2, i * 2)));
    await sink.close();
    const [path] = await listFiles(dir);
    expect(path).toMatch(/\.jsonl\.gz$/);
    expect((await readAllRecords(dir)).map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });
});
