import { type Checkpoint, Demand, isKefuError, type KefuRecord, RecordStream } from '@kefu/core';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ArrayPageSource, fixtureKey, fixtureRecord, nextTurn, turns, untilAborted } from './record-stream-fixtures.js';

const ids = (records: readonly KefuRecord[]) => records.map((r) => r.id);

describe('RecordStream laziness and cancellation', () => {
  it('given a stream that nobody subscribed to, then the source is never opened', async () => {
    const source = new ArrayPageSource([2, 2]);
    const stream = new RecordStream(fixtureKey, source);
    stream.batches();
    stream.pages();
    await turns(5);
    expect(source.opened).toBe(0);
    expect(source.requested).toBe(0);
  });

  it('given a subscriber that unsubscribes after 3 records, then requests stop, return() runs and the signal is aborted', async () => {
    const source = new ArrayPageSource(Array.from({ length: 100 }, () => 2));
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages: 2 });
    const taken = await lastValueFrom(stream.pipe(take(3), toArray()));
    expect(ids(taken)).toEqual(['r0', 'r1', 'r2']);
    await turns(10);
    const requestedAfterStop = source.requested;
    await turns(10);
    expect(source.requested).toBe(requestedAfterStop);
    // Record r2 is on page 1; with 2 pages prefetched at most pages 0..3 were requested.
    expect(source.requested).toBeLessThanOrEqual(4);
    expect(source.finished).toBe(1);
    expect(source.abortedAtFinish).toBe(true);
  });

  it('given a page request that never answers, when the subscriber unsubscribes, then the source signal is aborted and return() runs', async () => {
    const source = new ArrayPageSource([1, 1, 1], {
      beforePage: (index, signal) => (index === 1 ? untilAborted(signal) : Promise.resolve()),
    });
    const received: string[] = [];
    const subscription = new RecordStream(fixtureKey, source).subscribe((r) => received.push(r.id));
    await turns(5);
    subscription.unsubscribe();
    await turns(5);
    expect(received).toEqual(['r0']);
    expect(source.finished).toBe(1);
    expect(source.abortedAtFinish).toBe(true);
  });

  it('given a pull loop that breaks early, then return() runs on the source and its signal is aborted', async () => {
    const source = new ArrayPageSource([2, 2, 2, 2]);
    for await (const batch of new RecordStream(fixtureKey, source).batches({ size: 1 })) {
      expect(ids(batch.records)).toEqual(['r0']);
      break;
    }
    expect(source.finished).toBe(1);
    expect(source.abortedAtFinish).toBe(true);
  });

  it('given an abort signal on the pull view, when it aborts mid-stream, then the iterator throws KEFU_SYNC_ABORTED', async () => {
    const source = new ArrayPageSource([1, 1, 1, 1]);
    const controller = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      for await (const page of new RecordStream(fixtureKey, source).pages({ signal: controller.signal })) {
        seen.push(...ids(page.records));
        if (seen.length === 2) controller.abort();
      }
    };
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKefuError(error) && error.code).toBe('KEFU_SYNC_ABORTED');
    expect(seen).toEqual(['r0', 'r1']);
    expect(source.finished).toBe(1);
  });
});

describe('RecordStream validation', () => {
  it('given a resume checkpoint of another stream, then the stream is rejected with KEFU_CHECKPOINT_INVALID', () => {
    const foreign: Checkpoint = { provider: 'p', account: 'other', position: 1, skip: 0 };
    expect(() => new RecordStream(fixtureKey, new ArrayPageSource([1]), foreign)).toThrowError(
      expect.objectContaining({ code: 'KEFU_CHECKPOINT_INVALID', message: expect.stringContaining('p/other') }),
    );
  });

  it('given a malformed resume checkpoint, then the stream is rejected with KEFU_CHECKPOINT_INVALID naming the field', () => {
    const malformed = { provider: 'p', account: 'a', position: 1, skip: -1 } as Checkpoint;
    expect(() => new RecordStream(fixtureKey, new ArrayPageSource([1]), malformed)).toThrowError(
      expect.objectContaining({ code: 'KEFU_CHECKPOINT_INVALID', message: expect.stringContaining('skip') }),
    );
  });

  it('given prefetchPages 0 or a batch size of 0, then a KEFU_CONFIG_INVALID error says what is allowed', async () => {
    expect(() => new RecordStream(fixtureKey, new ArrayPageSource([1]), undefined, { prefetchPages: 0 })).toThrowError(
      expect.objectContaining({ code: 'KEFU_CONFIG_INVALID', message: expect.stringContaining('>= 1') }),
    );
    const batches = new RecordStream(fixtureKey, new ArrayPageSource([1])).batches({ size: 0 });
    await expect(batches.next()).rejects.toMatchObject({ code: 'KEFU_CONFIG_INVALID' });
  });

  it('given a source emitting a record of another account, then the subscriber gets KEFU_RECORD_INVALID', async () => {
    const source = new ArrayPageSource([1], { key: { provider: 'p', account: 'x' } });
    await expect(firstValueFrom(new RecordStream(fixtureKey, source).pipe(toArray()))).rejects.toMatchObject({
      code: 'KEFU_RECORD_INVALID',
    });
  });

  it('given a source emitting a record without an id, then the error names the field', async () => {
    const bad = { ...fixtureRecord(0), id: '' };
    const stream = new RecordStream(fixtureKey, {
      async *pages() {
        yield { records: [bad], position: 1 };
      },
    });
    await expect(firstValueFrom(stream)).rejects.toMatchObject({
      code: 'KEFU_RECORD_INVALID',
      message: expect.stringContaining('id'),
    });
  });
});

describe('RecordStream empty pages and batches', () => {
  it('given empty pages between full ones, then records come in order and a final record-less batch advances the checkpoint', async () => {
    const source = new ArrayPageSource([0, 2, 0, 0, 1, 0]);
    const stream = new RecordStream(fixtureKey, source);
    expect(ids(await firstValueFrom(stream.pipe(toArray())))).toEqual(['r0', 'r1', 'r2']);
    const batches = [];
    for await (const batch of stream.batches({ size: 3 })) batches.push(batch);
    expect(batches.map((b) => ids(b.records))).toEqual([['r0', 'r1', 'r2'], []]);
    expect(batches.at(-1)?.checkpoint).toMatchObject({ position: 6, skip: 0, recordAt: fixtureRecord(2).at });
  });

  it('given maxWaitMs and a slow page, then the partial batch is released before the next page arrives', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = new ArrayPageSource([2, 2], { beforePage: (index) => (index === 1 ? gate : Promise.resolve()) });
    const iterator = new RecordStream(fixtureKey, source).batches({ size: 10, maxWaitMs: 5 });
    const first = await iterator.next();
    expect(first.done ? [] : ids(first.value.records)).toEqual(['r0', 'r1']);
    expect(first.done ? undefined : first.value.checkpoint).toMatchObject({ position: 1, skip: 0 });
    release();
    const second = await iterator.next();
    expect(second.done ? [] : ids(second.value.records)).toEqual(['r2', 'r3']);
    expect((await iterator.next()).done).toBe(true);
  });

  it('given a demand shared by two subscriptions, then each waits for credits and both are served', async () => {
    const demand = new Demand();
    const a: string[] = [];
    const b: string[] = [];
    const stream = new RecordStream(fixtureKey, new ArrayPageSource([2]));
    const subA = stream.positioned({ demand }).subscribe((p) => a.push(p.record.id));
    const subB = stream.positioned({ demand }).subscribe((p) => b.push(p.record.id));
    await turns(5);
    expect(a.length + b.length).toBe(0);
    demand.request(4);
    await turns(5);
    expect([...a, ...b].sort()).toEqual(['r0', 'r0', 'r1', 'r1']);
    subA.unsubscribe();
    subB.unsubscribe();
  });

  it('given more credits than records, then the unused credits remain after completion', async () => {
    const demand = new Demand(5);
    const stream = new RecordStream(fixtureKey, new ArrayPageSource([1, 0, 1]));
    const got = await firstValueFrom(stream.positioned({ demand }).pipe(toArray()));
    expect(got.map((p) => p.record.id)).toEqual(['r0', 'r1']);
    expect(demand.outstanding).toBe(3);
  });

  it('given withOptions, then the copy keeps the resume point, uses the new prefetch and chains onPageFetched', async () => {
    const source = new ArrayPageSource(Array.from({ length: 20 }, () => 1));
    const seenByProvider: number[] = [];
    const seenByPipeline: number[] = [];
    const resumeFrom: Checkpoint = { ...fixtureKey, position: 2, skip: 0 };
    const stream = new RecordStream(fixtureKey, source, resumeFrom, {
      onPageFetched: ({ position }) => seenByProvider.push(position as number),
    }).withOptions({ prefetchPages: 5, onPageFetched: ({ position }) => seenByPipeline.push(position as number) });
    expect(stream.resumeFrom).toEqual(resumeFrom);
    const iterator = stream.pages();
    const first = await iterator.next();
    expect(first.done ? [] : ids(first.value.records)).toEqual(['r2']);
    await turns(5);
    // The first page plus 5 prefetched, each reported to both callbacks when fetched.
    expect(source.requested).toBe(6);
    expect(seenByProvider).toEqual([3, 4, 5, 6, 7, 8]);
    expect(seenByPipeline).toEqual(seenByProvider);
    await iterator.return(undefined);
  });

  it('given withOptions with onWarning, then a warning the source reports reaches both the original and the added listener', async () => {
    const warning = { code: 'P_ODD_ANSWER', message: 'the platform answered oddly', details: { page: 0 } };
    const source = {
      async *pages(_position: unknown, _signal: AbortSignal, context?: { onWarning?: (w: typeof warning) => void }) {
        context?.onWarning?.(warning);
        yield { records: [fixtureRecord(0)], position: 1 };
      },
    };
    const seenByProvider: unknown[] = [];
    const seenByPipeline: unknown[] = [];
    const stream = new RecordStream(fixtureKey, source, undefined, {
      onWarning: (w) => seenByProvider.push(w),
    }).withOptions({ onWarning: (w) => seenByPipeline.push(w) });
    expect(ids(await firstValueFrom(stream.pipe(toArray())))).toEqual(['r0']);
    expect(seenByProvider).toEqual([warning]);
    expect(seenByPipeline).toEqual([warning]);
  });

  it('ignores non-positive demand requests', async () => {
    const demand = new Demand();
    demand.request(0);
    demand.request(-3);
    demand.request(Number.NaN);
    expect(demand.outstanding).toBe(0);
    const got: string[] = [];
    const sub = new RecordStream(fixtureKey, new ArrayPageSource([1]))
      .positioned({ demand })
      .subscribe((p) => got.push(p.record.id));
    await nextTurn();
    expect(got).toEqual([]);
    sub.unsubscribe();
  });
});
