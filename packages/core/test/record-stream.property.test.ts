import { type Checkpoint, type KefuRecord, RecordStream } from '@kefu/core';
import fc from 'fast-check';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ArrayPageSource, fixtureKey } from './record-stream-fixtures.js';

const ids = (records: readonly KefuRecord[]) => records.map((r) => r.id);
const pageSizes = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 8 });
const prefetch = fc.integer({ min: 1, max: 3 });

async function readAll(source: ArrayPageSource, resumeFrom?: Checkpoint, prefetchPages = 2): Promise<string[]> {
  const stream = new RecordStream(fixtureKey, source, resumeFrom, { prefetchPages });
  return ids(await firstValueFrom(stream.pipe(toArray())));
}

async function readPositioned(source: ArrayPageSource, prefetchPages: number) {
  const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
  return firstValueFrom(stream.positioned().pipe(toArray()));
}

describe('RecordStream properties', () => {
  it('emits every record once, in checkpoint order, for any page sizes and prefetch', async () => {
    await fc.assert(
      fc.asyncProperty(pageSizes, prefetch, async (sizes, prefetchPages) => {
        const source = new ArrayPageSource(sizes);
        expect(await readAll(source, undefined, prefetchPages)).toEqual(ids(source.records));
      }),
      { numRuns: 100 },
    );
  });

  it('resuming from the checkpoint of any emitted record yields exactly the records after it', async () => {
    await fc.assert(
      fc.asyncProperty(pageSizes, prefetch, async (sizes, prefetchPages) => {
        const source = new ArrayPageSource(sizes);
        const positioned = await readPositioned(source, prefetchPages);
        const all = ids(source.records);
        for (const [index, { checkpoint }] of positioned.entries()) {
          expect(await readAll(source, checkpoint, prefetchPages)).toEqual(all.slice(index + 1));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('resuming from every batch checkpoint yields exactly the rest, for any batch size', async () => {
    await fc.assert(
      fc.asyncProperty(pageSizes, fc.integer({ min: 1, max: 7 }), async (sizes, size) => {
        const source = new ArrayPageSource(sizes);
        const all = ids(source.records);
        let delivered = 0;
        const stream = new RecordStream(fixtureKey, source);
        for await (const batch of stream.batches({ size })) {
          delivered += batch.records.length;
          expect(batch.records.length).toBeLessThanOrEqual(size);
          expect(await readAll(source, batch.checkpoint)).toEqual(all.slice(delivered));
        }
        expect(delivered).toBe(all.length);
      }),
      { numRuns: 60 },
    );
  });

  it('a second read from the last state returns nothing older, and a state from the future returns nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pageSizes, fc.integer({ min: 1, max: 5 }), async (sizes, beyond) => {
        const source = new ArrayPageSource(sizes);
        const positioned = await readPositioned(source, 2);
        const last = positioned.at(-1)?.checkpoint;
        if (last) expect(await readAll(source, last)).toEqual([]);
        const future: Checkpoint = { ...fixtureKey, position: sizes.length + beyond, skip: 0 };
        expect(await readAll(source, future)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('a source failing at any page delivers exactly the records before that page, then the error', async () => {
    await fc.assert(
      fc.asyncProperty(
        pageSizes.filter((s) => s.length > 0),
        prefetch,
        fc.nat(),
        async (sizes, prefetchPages, pick) => {
          const failAt = pick % sizes.length;
          const failure = new Error(`boom at ${failAt}`);
          const source = new ArrayPageSource(sizes, { failAt, failWith: () => failure });
          const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
          const received: string[] = [];
          const error = await new Promise<unknown>((resolve) => {
            stream.subscribe({
              next: (r) => received.push(r.id),
              error: resolve,
              complete: () => resolve(undefined),
            });
          });
          expect(error).toBe(failure);
          const before = sizes.slice(0, failAt).reduce((sum, n) => sum + n, 0);
          expect(received).toEqual(ids(source.records).slice(0, before));
          expect(source.finished).toBe(1);
        },
      ),
      { numRuns: 80 },
    );
  });
});
