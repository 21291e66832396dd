import {
  ByteBudget,
  DEFAULT_MAX_BUFFERED_BYTES,
  estimateRecordBytes,
  estimateValueBytes,
  type JsonValue,
  type KefuRecord,
  type PageSource,
  pipeToSinks,
  type RecordBatch,
  type RecordPage,
  RecordStream,
} from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { fixtureKey, fixtureRecord, RecordingSink, turns } from './record-stream-fixtures.js';

// A sink that is slow next to the source and records of about 100 kB: pages and batches
// counted in records would buffer far more than the byte bound; the bound must hold anyway.
const MIB = 1024 * 1024;

/** Record `i` with a `raw` payload of `chars` characters. */
function bigRecord(i: number, chars: number): KefuRecord {
  return { ...fixtureRecord(i), raw: { i, blob: String.fromCharCode(97 + (i % 26)).repeat(chars) } };
}

/** Pages of big records; counts the estimated bytes of every page it hands out. */
class BigPageSource implements PageSource {
  fetchedBytes = 0;
  readonly pageBytes: number[] = [];
  readonly pageList: KefuRecord[][];

  constructor(pages: number, perPage: number, chars: (index: number) => number) {
    this.pageList = Array.from({ length: pages }, (_, page) =>
      Array.from({ length: perPage }, (_, slot) => bigRecord(page * perPage + slot, chars(page * perPage + slot))),
    );
    for (const page of this.pageList) {
      this.pageBytes.push(page.reduce((sum, record) => sum + estimateRecordBytes(record), 0));
    }
  }

  get records(): KefuRecord[] {
    return this.pageList.flat();
  }

  async *pages(position: JsonValue): AsyncGenerator<RecordPage> {
    for (let index = (position as number | null) ?? 0; index < this.pageList.length; index++) {
      await turns(1);
      this.fetchedBytes += this.pageBytes[index] as number;
      yield { records: this.pageList[index] as KefuRecord[], position: index + 1 };
    }
  }
}

/** Pipes `source` into a sink 20 turns slow per write; tracks the bytes read and not yet committed. */
async function pipeSlowly(source: BigPageSource, options: { maxBufferedBytes?: number; prefetchPages: number }) {
  let committedBytes = 0;
  let maxOutstanding = 0;
  const observe = () => {
    maxOutstanding = Math.max(maxOutstanding, source.fetchedBytes - committedBytes);
  };
  const sink = new RecordingSink('slow', {
    beforeWrite: async () => {
      for (let turn = 0; turn < 20; turn++) {
        observe();
        await turns(1);
      }
    },
  });
  const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages: options.prefetchPages });
  const result = await pipeToSinks(stream, [sink], {
    checkpointKey: 'job/p/a',
    batchSize: 1000,
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
    commit: (_checkpoint, batch: RecordBatch) => {
      observe();
      committedBytes += batch.records.reduce((sum, record) => sum + estimateRecordBytes(record), 0);
    },
  });
  return { sink, result, maxOutstanding };
}

describe('byte-bounded buffers between the provider and the sinks', () => {
  it('given 100 kB records and a slow sink, then the bytes read and not committed stay within maxBufferedBytes plus one page, and every record arrives once, in order', async () => {
    const source = new BigPageSource(30, 10, () => 50_000);
    const largestPage = Math.max(...source.pageBytes);
    const bound = 3 * MIB;
    const { sink, result, maxOutstanding } = await pipeSlowly(source, { maxBufferedBytes: bound, prefetchPages: 8 });

    expect(sink.accepted).toEqual(source.records.map((record) => record.id));
    expect(result.records).toBe(300);
    expect(result.checkpoint?.position).toBe(30);
    expect(maxOutstanding).toBeLessThanOrEqual(bound + largestPage);
    expect(result.peakBufferedBytes).toBeLessThanOrEqual(bound + largestPage);
    // The bound is what limited the buffers: well over half of it was in use.
    expect(maxOutstanding).toBeGreaterThan(bound / 2);
    // Batches were cut by bytes (a quarter of the bound), not at 1 000 records.
    expect(sink.calls).toBeGreaterThan(10);
  });

  it('given the same records with a bound far above them, then the page and batch counts alone let far more than that bound accumulate', async () => {
    const source = new BigPageSource(30, 10, () => 50_000);
    const { sink, maxOutstanding } = await pipeSlowly(source, { maxBufferedBytes: 1024 * MIB, prefetchPages: 8 });
    expect(sink.accepted).toHaveLength(300);
    expect(maxOutstanding).toBeGreaterThan(3 * MIB + Math.max(...source.pageBytes));
  });

  it('given a single record larger than the whole bound, then it still goes through alone and nothing is lost', async () => {
    const source = new BigPageSource(6, 1, (index) => (index === 2 ? 2 * MIB : 1_000));
    const bound = 1 * MIB;
    const { sink, maxOutstanding } = await pipeSlowly(source, { maxBufferedBytes: bound, prefetchPages: 4 });
    expect(sink.accepted).toEqual(source.records.map((record) => record.id));
    expect(maxOutstanding).toBeLessThanOrEqual(bound + Math.max(...source.pageBytes));
  });

  it('given a resume inside a page and records dropped by validation, then every byte the stream held is released once the batches are', async () => {
    const records = Array.from({ length: 40 }, (_, i) => bigRecord(i, 2_000));
    // Record 17 is invalid (no customer) and skipped by the stream.
    records[17] = { ...(records[17] as KefuRecord), customer: '' };
    const source: PageSource = {
      async *pages(position) {
        for (let index = (position as number | null) ?? 0; index < 4; index++) {
          yield { records: records.slice(index * 10, index * 10 + 10), position: index + 1 };
        }
      },
    };
    const resumeFrom = { ...fixtureKey, position: 1, skip: 3 };
    const stream = new RecordStream(fixtureKey, source, resumeFrom, { onInvalidRecord: () => undefined });
    const budget = new ByteBudget(10 * MIB);
    const seen: string[] = [];
    for await (const batch of stream.batches({ size: 7, budget })) {
      seen.push(...batch.records.map((record) => record.id));
      expect(batch.bytes).toBe(batch.records.reduce((sum, record) => sum + estimateRecordBytes(record), 0));
      budget.release(batch.bytes ?? 0);
    }
    expect(seen).toEqual(
      records
        .slice(13)
        .filter((_, i) => i + 13 !== 17)
        .map((record) => record.id),
    );
    expect(budget.held).toBe(0);
  });

  it('given a bound below 1 KiB, then pipeToSinks refuses it with KEFU_CONFIG_INVALID', async () => {
    const stream = new RecordStream(fixtureKey, new BigPageSource(1, 1, () => 10));
    await expect(
      pipeToSinks(stream, [new RecordingSink('s')], { checkpointKey: 'job/p/a', maxBufferedBytes: 100 }),
    ).rejects.toMatchObject({ code: 'KEFU_CONFIG_INVALID' });
    expect(DEFAULT_MAX_BUFFERED_BYTES).toBe(32 * MIB);
  });
});

describe('estimateRecordBytes', () => {
  it('adds each attachment a record carries, estimated as a value, to the plain record', () => {
    const plain = fixtureRecord(0);
    const attachments = {
      media: { type: 'image', mediaId: 'm-1' },
      link: { url: 'https://example.com/a', title: 'a title' },
      location: { latitude: 31.2, longitude: 121.5, label: 'Shanghai' },
      card: { title: 'card' },
      miniprogram: { appId: 'wx-mini', pagePath: 'pages/index' },
      quote: { id: 'quoted', text: 'what was said' },
    };
    for (const [field, value] of Object.entries(attachments)) {
      const withOne = { ...plain, [field]: value } as KefuRecord;
      expect(estimateRecordBytes(withOne) - estimateRecordBytes(plain), field).toBe(estimateValueBytes(value));
    }
    const withAll = { ...plain, ...attachments } as KefuRecord;
    const sum = Object.values(attachments).reduce((total, value) => total + estimateValueBytes(value), 0);
    expect(estimateRecordBytes(withAll) - estimateRecordBytes(plain)).toBe(sum);
  });
});
