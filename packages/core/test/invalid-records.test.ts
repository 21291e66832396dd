import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Checkpoint,
  type InvalidRecord,
  type InvalidRecordDeadLetter,
  type JsonValue,
  type KefuProvider,
  type KefuRecord,
  MemoryCheckpointStore,
  type RecordPage,
  type RecordQueryInput,
  RecordStream,
  runSync,
} from '@kefu/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRecord, RecordingSink } from './record-stream-fixtures.js';

/**
 * Poison records: a provider emits records that fail the record schema. By default the
 * target fails (KEFU_RECORD_INVALID); with `onInvalidRecord: skip | dead-letter` the sync
 * leaves them out, counts them, and — the property — every checkpoint still counts them,
 * so resuming from any checkpoint yields exactly the valid records after it.
 */

const FROM = new Date('2026-11-01T00:00:00Z');
const TO = new Date('2026-11-02T00:00:00Z');
const KEY = { provider: 'p', account: 'a' };

/** Record `i`, broken (an empty customer) when `i` is in `invalid`. */
function recordOf(i: number, invalid: ReadonlySet<number>): KefuRecord {
  const record = fixtureRecord(i, KEY);
  return invalid.has(i) ? { ...record, customer: '' } : record;
}

/** Pages of the given sizes over records 0…n-1; position = index of the next page. */
class PoisonedSource {
  readonly records: KefuRecord[];
  readonly #starts: number[] = [];

  constructor(
    readonly pageSizes: readonly number[],
    readonly invalid: ReadonlySet<number>,
  ) {
    let next = 0;
    for (const size of pageSizes) {
      this.#starts.push(next);
      next += size;
    }
    this.records = Array.from({ length: next }, (_, i) => recordOf(i, invalid));
  }

  validIds(): string[] {
    return this.records.filter((_, i) => !this.invalid.has(i)).map((record) => record.id);
  }

  async *pages(position: JsonValue): AsyncGenerator<RecordPage> {
    for (let index = (position as number | null) ?? 0; index < this.pageSizes.length; index++) {
      const start = this.#starts[index] as number;
      yield { records: this.records.slice(start, start + (this.pageSizes[index] as number)), position: index + 1 };
    }
  }
}

class PoisonedProvider implements KefuProvider {
  readonly id = 'prov';
  readonly platform = 'p';
  readonly capabilities = new Set<never>();
  constructor(readonly source: PoisonedSource) {}
  accounts() {
    return ['a'];
  }
  records(query: RecordQueryInput): RecordStream {
    return new RecordStream(KEY, this.source, query.resumeFrom);
  }
  async close() {}
}

/** Every record of the stream from `resumeFrom`, with the checkpoint after each, leaving invalid ones out. */
async function readAll(
  source: PoisonedSource,
  resumeFrom?: Checkpoint,
): Promise<{ ids: string[]; checkpoints: Checkpoint[]; invalid: string[] }> {
  const invalid: string[] = [];
  const stream = new RecordStream(KEY, source, resumeFrom, {
    onInvalidRecord: (report: InvalidRecord) => {
      invalid.push((report.record as KefuRecord).id);
    },
  });
  const ids: string[] = [];
  const checkpoints: Checkpoint[] = [];
  for await (const page of stream.pages()) {
    page.records.forEach((record, index) => {
      ids.push(record.id);
      checkpoints.push(page.checkpointAfter(index));
    });
  }
  return { ids, checkpoints, invalid };
}

const layout = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 }).chain((pageSizes) => {
  const total = pageSizes.reduce((sum, size) => sum + size, 0);
  return fc.record({
    pageSizes: fc.constant(pageSizes),
    invalid: fc
      .uniqueArray(fc.nat({ max: Math.max(0, total - 1) }), { maxLength: total })
      .map((list) => new Set(list.filter((i) => i < total))),
  });
});

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-invalid-records-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('invalid records in a record stream', () => {
  it('given invalid records anywhere in the pages, when read with onInvalidRecord, then exactly the valid records come out and each invalid one is reported once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(layout, async ({ pageSizes, invalid }) => {
        const source = new PoisonedSource(pageSizes, invalid);
        const { ids, invalid: reported } = await readAll(source);
        expect(ids).toEqual(source.validIds());
        expect(reported).toEqual([...invalid].sort((a, b) => a - b).map((i) => `r${i}`));
      }),
    );
  });

  it('given invalid records, when resuming from the checkpoint after any valid record, then exactly the valid records after it come out and no invalid one before it is met again (property)', async () => {
    await fc.assert(
      fc.asyncProperty(layout, fc.nat(), async ({ pageSizes, invalid }, pick) => {
        const source = new PoisonedSource(pageSizes, invalid);
        const first = await readAll(source);
        fc.pre(first.ids.length > 0);
        const at = pick % first.ids.length;
        const resumed = await readAll(source, first.checkpoints[at]);
        expect(resumed.ids).toEqual(first.ids.slice(at + 1));
        // Invalid records before the checkpoint's record are behind it (a trailing one may follow it on its page).
        const resumedFromIndex = Number((first.ids[at] as string).slice(1));
        for (const id of resumed.invalid) expect(Number(id.slice(1))).toBeGreaterThan(resumedFromIndex);
      }),
    );
  });

  it('given no onInvalidRecord, when an invalid record comes, then the stream fails with KEFU_RECORD_INVALID naming the record and the field', async () => {
    const source = new PoisonedSource([3, 3], new Set([4]));
    const stream = new RecordStream(KEY, source);
    await expect(
      (async () => {
        for await (const _ of stream.pages());
      })(),
    ).rejects.toThrow(
      expect.objectContaining({
        code: 'KEFU_RECORD_INVALID',
        message: expect.stringContaining('invalid record r4 on a: customer:'),
      }),
    );
  });
});

describe('onInvalidRecord in a sync', () => {
  const options = (source: PoisonedSource, sink: RecordingSink, store: MemoryCheckpointStore) => ({
    targets: [{ provider: new PoisonedProvider(source), account: 'a' }],
    sinks: [sink],
    checkpoints: store,
    from: FROM,
    to: TO,
    batchSize: 2,
  });

  it('given the default policy, when a record is invalid, then its target fails with KEFU_RECORD_INVALID and the checkpoint stops before it', async () => {
    const source = new PoisonedSource([2, 2, 2], new Set([3]));
    const sink = new RecordingSink('s');
    const store = new MemoryCheckpointStore();
    const summary = await runSync(options(source, sink, store)).done;
    expect(summary.targets[0]).toMatchObject({
      status: 'failed',
      error: expect.objectContaining({ code: 'KEFU_RECORD_INVALID' }),
    });
    expect(sink.accepted).toEqual(['r0', 'r1']);
  });

  it('given skip, when records are invalid, then the sync is done, counts them, and a re-run meets none of them again', async () => {
    const source = new PoisonedSource([2, 3, 2], new Set([2, 3, 6]));
    const sink = new RecordingSink('s');
    const store = new MemoryCheckpointStore();
    const summary = await runSync({ ...options(source, sink, store), onInvalidRecord: 'skip' }).done;
    expect(summary.targets[0]).toMatchObject({ status: 'done', invalidRecords: 3, records: 4 });
    expect(sink.accepted).toEqual(source.validIds());
    const again = await runSync({ ...options(source, sink, store), onInvalidRecord: 'skip' }).done;
    expect(again.targets[0]).toMatchObject({ status: 'done', invalidRecords: 0, records: 0 });
  });

  it('given dead-letter, when a record is invalid, then a 0600 JSONL line keeps its raw payload, target, reason and time, and the sync goes on', async () => {
    const path = join(scratch, 'dead', 'invalid.jsonl');
    const source = new PoisonedSource([3, 3], new Set([1]));
    const sink = new RecordingSink('s');
    const store = new MemoryCheckpointStore();
    const summary = await runSync({
      ...options(source, sink, store),
      onInvalidRecord: 'dead-letter',
      deadLetterPath: path,
    }).done;
    expect(summary.targets[0]).toMatchObject({ status: 'done', invalidRecords: 1, records: 5 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as InvalidRecordDeadLetter);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      target: 'prov/a',
      checkpointKey: 'default/prov/a',
      reason: expect.stringMatching(/^customer: /),
      record: { id: 'r1', customer: '', raw: { i: 1 } },
    });
    expect(Date.parse(lines[0]?.at as string)).not.toBeNaN();
  });

  it('given dead-letter without a path, when the sync starts, then KEFU_CONFIG_INVALID says deadLetterPath is needed', () => {
    const source = new PoisonedSource([1], new Set());
    expect(() =>
      runSync({
        ...options(source, new RecordingSink('s'), new MemoryCheckpointStore()),
        onInvalidRecord: 'dead-letter',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'KEFU_CONFIG_INVALID', message: expect.stringContaining('deadLetterPath') }),
    );
  });
});
