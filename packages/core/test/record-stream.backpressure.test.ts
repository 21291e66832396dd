import { Demand, RecordStream } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { ArrayPageSource, fixtureKey, turns } from './record-stream-fixtures.js';

// The consumer is 10x slower than the source: a page costs the source 1 macrotask turn,
// the consumer spends 10 turns per page. "Ahead" counts page requests the source received
// for pages whose records the consumer has not received yet.
const PAGES = 40;
const PAGE_SIZE = 3;

describe('RecordStream backpressure', () => {
  for (const prefetchPages of [1, 2, 4]) {
    it(`given prefetchPages=${prefetchPages} and a 10x slower pages() consumer, then at most ${prefetchPages} pages are fetched ahead`, async () => {
      const source = new ArrayPageSource(
        Array.from({ length: PAGES }, () => PAGE_SIZE),
        { beforePage: () => turns(1) },
      );
      const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
      let consumed = 0;
      let maxAhead = 0;
      for await (const page of stream.pages()) {
        consumed++;
        expect(page.records).toHaveLength(PAGE_SIZE);
        await turns(10);
        maxAhead = Math.max(maxAhead, source.requested - consumed);
      }
      expect(consumed).toBe(PAGES);
      expect(maxAhead).toBeLessThanOrEqual(prefetchPages);
      // The prefetch is used (the bound is not trivially met by fetching nothing ahead).
      expect(maxAhead).toBe(prefetchPages);
    });
  }

  it('given a 10x slower batches() consumer, then records fetched and not delivered stay within prefetchPages + 1 pages', async () => {
    const prefetchPages = 2;
    const source = new ArrayPageSource(
      Array.from({ length: PAGES }, () => PAGE_SIZE),
      { beforePage: () => turns(1) },
    );
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
    let delivered = 0;
    let maxUndelivered = 0;
    for await (const batch of stream.batches({ size: 2, maxWaitMs: 1000 })) {
      delivered += batch.records.length;
      await turns(10);
      maxUndelivered = Math.max(maxUndelivered, source.requested * PAGE_SIZE - delivered);
    }
    expect(delivered).toBe(PAGES * PAGE_SIZE);
    // One page may sit half-batched inside batches() on top of the prefetched ones.
    expect(maxUndelivered).toBeLessThanOrEqual((prefetchPages + 1) * PAGE_SIZE);
  });

  it('given the Observable view with a Demand and a consumer requesting one record at a time slowly, then at most prefetchPages pages are fetched ahead', async () => {
    const prefetchPages = 2;
    const source = new ArrayPageSource(
      Array.from({ length: PAGES }, () => PAGE_SIZE),
      { beforePage: () => turns(1) },
    );
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
    const demand = new Demand(1);
    let maxAhead = 0;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      stream.positioned({ demand }).subscribe({
        next: ({ record }) => {
          received++;
          const page = source.pageOf(Number(record.id.slice(1)));
          maxAhead = Math.max(maxAhead, source.requested - (page + 1));
          // Slow consumer: asks for the next record only after 10 turns (e.g. after a write).
          void turns(10).then(() => {
            maxAhead = Math.max(maxAhead, source.requested - (page + 1));
            demand.request(1);
          });
        },
        error: reject,
        complete: resolve,
      });
    });
    expect(received).toBe(PAGES * PAGE_SIZE);
    expect(maxAhead).toBeLessThanOrEqual(prefetchPages);
    expect(maxAhead).toBe(prefetchPages);
  });

  it('given a Demand with no credits, then nothing is emitted and no more than prefetchPages pages are requested', async () => {
    const source = new ArrayPageSource(Array.from({ length: PAGES }, () => PAGE_SIZE));
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages: 2 });
    const demand = new Demand();
    const received: string[] = [];
    const subscription = stream.positioned({ demand }).subscribe(({ record }) => received.push(record.id));
    await turns(30);
    expect(received).toEqual([]);
    // Without credit no page is taken from the prefetcher, so nothing beyond the prefetch is requested.
    expect(source.requested).toBeLessThanOrEqual(2);
    demand.request(4);
    await turns(30);
    expect(received).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(source.requested).toBeLessThanOrEqual(4);
    subscription.unsubscribe();
    await turns(3);
    expect(source.abortedAtFinish).toBe(true);
  });
});
