import {
  type Checkpoint,
  coreError,
  Demand,
  isKefuError,
  type PositionedRecord,
  pipeToSinks,
  RecordStream,
  writeToSink,
} from '@kefu/core';
import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ArrayPageSource, fixtureKey, fixtureRecord, RecordingSink, turns } from './record-stream-fixtures.js';

const allIds = (source: ArrayPageSource) => source.records.map((r) => r.id);
const pagesOf = (count: number, size: number) => Array.from({ length: count }, () => size);

async function readIds(source: ArrayPageSource, resumeFrom?: Checkpoint): Promise<string[]> {
  const records = await firstValueFrom(new RecordStream(fixtureKey, source, resumeFrom).pipe(toArray()));
  return records.map((r) => r.id);
}

describe('writeToSink', () => {
  it('given 10 records and batchSize 4, then it writes 3 batches one after another and emits each acknowledged checkpoint', async () => {
    const source = new ArrayPageSource([3, 3, 4]);
    const sink = new RecordingSink('s', { beforeWrite: () => turns(3) });
    const stream = new RecordStream(fixtureKey, source);
    const checkpoints = await lastValueFrom(
      stream
        .positioned()
        .pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'j/p/a', batchSize: 4 }), toArray()),
    );
    expect(sink.accepted).toEqual(allIds(source));
    expect(sink.calls).toBe(3);
    expect(sink.maxConcurrentWrites).toBe(1);
    expect(checkpoints).toEqual(sink.acknowledged);
    // Each emitted checkpoint resumes exactly after the records written so far.
    expect(await readIds(source, checkpoints[0])).toEqual(allIds(source).slice(4));
    expect(await readIds(source, checkpoints.at(-1))).toEqual([]);
  });

  it('given maxWaitMs, then a partial batch is written without waiting for more records', async () => {
    const sink = new RecordingSink('s');
    const input = new Subject<PositionedRecord>();
    const emitted: Checkpoint[] = [];
    let firstCommit: (checkpoint: Checkpoint) => void = () => {};
    const committed = new Promise<Checkpoint>((resolve) => {
      firstCommit = resolve;
    });
    const subscription = input
      .pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'k', batchSize: 100, maxWaitMs: 5 }))
      .subscribe((c) => {
        emitted.push(c);
        firstCommit(c);
      });
    const checkpoint: Checkpoint = { ...fixtureKey, position: 1, skip: 0 };
    input.next({ record: fixtureRecord(0), checkpoint });
    // The input neither fills the batch nor completes: only maxWaitMs can cut it.
    expect(await committed).toEqual(checkpoint);
    expect(sink.accepted).toEqual(['r0']);
    expect(emitted).toEqual([checkpoint]);
    subscription.unsubscribe();
  });

  it('given a sink failing on the second write, then the output errors with KEFU_SINK_FAILED and emits no checkpoint past the first batch', async () => {
    const source = new ArrayPageSource([2, 2, 2]);
    const sink = new RecordingSink('broken', { failOn: (call) => (call === 2 ? new Error('disk full') : undefined) });
    const emitted: Checkpoint[] = [];
    const error = await new Promise<unknown>((resolve) => {
      new RecordStream(fixtureKey, source)
        .positioned()
        .pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'k', batchSize: 2 }))
        .subscribe({ next: (c) => emitted.push(c), error: resolve, complete: () => resolve(undefined) });
    });
    expect(error).toMatchObject({ code: 'KEFU_SINK_FAILED', details: { sink: 'broken' } });
    expect((error as Error).message).toContain('disk full');
    expect(emitted).toHaveLength(1);
    expect(await readIds(source, emitted[0])).toEqual(['r2', 'r3', 'r4', 'r5']);
  });

  it('given an upstream error during a write, then the batches already cut are written and acknowledged before the error', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink = new RecordingSink('s', { beforeWrite: () => gate });
    const input = new Subject<PositionedRecord>();
    const seen: Array<Checkpoint | 'error'> = [];
    input.pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'k', batchSize: 1 })).subscribe({
      next: (c) => seen.push(c),
      error: () => seen.push('error'),
    });
    const checkpoint: Checkpoint = { ...fixtureKey, position: 1, skip: 0 };
    input.next({ record: fixtureRecord(0), checkpoint });
    input.next({ record: fixtureRecord(1), checkpoint: { ...checkpoint, position: 2 } });
    input.error(new Error('read failed'));
    await turns(2);
    expect(seen).toEqual([]);
    release();
    await turns(2);
    expect(seen).toEqual([checkpoint, { ...checkpoint, position: 2 }, 'error']);
    expect(sink.accepted).toEqual(['r0', 'r1']);
  });

  it('given an invalid batchSize, then it fails with KEFU_CONFIG_INVALID', () => {
    expect(() =>
      writeToSink(new RecordingSink('s'), { stream: fixtureKey, checkpointKey: 'k', batchSize: 0 }),
    ).toThrowError(expect.objectContaining({ code: 'KEFU_CONFIG_INVALID' }));
  });

  it('given positioned({demand}) and a request after each acknowledged write, then a slow sink holds back page fetching', async () => {
    const PAGE = 3;
    const prefetchPages = 2;
    const source = new ArrayPageSource(pagesOf(30, PAGE), { beforePage: () => turns(1) });
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
    // The sink is 10x slower than the source.
    const sink = new RecordingSink('slow', { beforeWrite: () => turns(10) });
    let maxUnwritten = 0;
    const demand = new Demand(PAGE);
    await new Promise<void>((resolve, reject) => {
      stream
        .positioned({ demand })
        .pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'k', batchSize: PAGE }))
        .subscribe({
          next: () => {
            maxUnwritten = Math.max(maxUnwritten, source.requested * PAGE - sink.accepted.length);
            demand.request(PAGE);
          },
          error: reject,
          complete: resolve,
        });
    });
    expect(sink.accepted).toEqual(allIds(source));
    // Pages fetched but not written: the prefetched ones plus the batch being written.
    expect(maxUnwritten).toBeLessThanOrEqual((prefetchPages + 1) * PAGE);
  });

  it('given no demand (plain RxJS), then the whole source is fetched while the first write is still in flight', async () => {
    // The contrast to the test above: this is why the Demand is needed.
    const source = new ArrayPageSource(pagesOf(30, 3));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink = new RecordingSink('slow', { beforeWrite: () => gate });
    const done = lastValueFrom(
      new RecordStream(fixtureKey, source)
        .positioned()
        .pipe(writeToSink(sink, { stream: fixtureKey, checkpointKey: 'k', batchSize: 3 }), toArray()),
    );
    await turns(20);
    expect(sink.accepted).toEqual([]);
    expect(source.requested).toBe(30);
    release();
    await done;
    expect(sink.accepted).toEqual(allIds(source));
  });
});

describe('pipeToSinks', () => {
  it('given two sinks, then every batch reaches both, in order, and commits come in stream order', async () => {
    const source = new ArrayPageSource([3, 0, 5, 2, 0]);
    const a = new RecordingSink('a');
    const b = new RecordingSink('b', { beforeWrite: (call) => turns(call % 3) });
    const commits: Checkpoint[] = [];
    const result = await pipeToSinks(new RecordStream(fixtureKey, source), [a, b], {
      checkpointKey: 'k',
      batchSize: 4,
      commit: (checkpoint) => {
        commits.push(checkpoint);
      },
    });
    expect(a.accepted).toEqual(allIds(source));
    expect(b.accepted).toEqual(allIds(source));
    expect(result.records).toBe(10);
    expect(result.checkpoint).toEqual(commits.at(-1));
    expect(await readIds(source, result.checkpoint)).toEqual([]);
    for (const [index, checkpoint] of commits.entries()) {
      expect(await readIds(source, checkpoint)).toEqual(allIds(source).slice(Math.min(10, (index + 1) * 4)));
    }
  });

  it('given a slow sink, then pages fetched and not committed stay bounded by prefetch and in-flight batches', async () => {
    const PAGE = 2;
    const prefetchPages = 2;
    const maxInFlightBatches = 2;
    const source = new ArrayPageSource(pagesOf(40, PAGE), { beforePage: () => turns(1) });
    const stream = new RecordStream(fixtureKey, source, undefined, { prefetchPages });
    const sink = new RecordingSink('slow', { beforeWrite: () => turns(10) });
    let committed = 0;
    let maxUncommitted = 0;
    await pipeToSinks(stream, [sink], {
      checkpointKey: 'k',
      batchSize: PAGE,
      maxInFlightBatches,
      commit: (_checkpoint, batch) => {
        committed += batch.records.length;
        maxUncommitted = Math.max(maxUncommitted, source.requested * PAGE - committed);
      },
    });
    expect(sink.accepted).toEqual(allIds(source));
    // In flight + prefetched + one page inside batches().
    expect(maxUncommitted).toBeLessThanOrEqual((prefetchPages + maxInFlightBatches + 1) * PAGE);
  });

  it('given trailing empty pages, then the checkpoint-only batch is committed without calling the sinks', async () => {
    const source = new ArrayPageSource([2, 0, 0]);
    const sink = new RecordingSink('s');
    const commits: Checkpoint[] = [];
    await pipeToSinks(new RecordStream(fixtureKey, source), [sink], {
      checkpointKey: 'k',
      batchSize: 2,
      commit: (checkpoint) => {
        commits.push(checkpoint);
      },
    });
    expect(sink.calls).toBe(1);
    expect(commits.map((c) => c.position)).toEqual([1, 3]);
  });

  it('given a commit that rejects, then the pipe stops with that error and commits nothing after it', async () => {
    const source = new ArrayPageSource(pagesOf(5, 2));
    const commits: Checkpoint[] = [];
    const failure = new Error('store unavailable');
    const error = await pipeToSinks(new RecordStream(fixtureKey, source), [new RecordingSink('s')], {
      checkpointKey: 'k',
      batchSize: 2,
      commit: (checkpoint) => {
        if (commits.length === 1) throw failure;
        commits.push(checkpoint);
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(commits).toHaveLength(1);
  });

  it('given a sink failing retryably twice, then with writeRetry the batch is retried and everything arrives', async () => {
    const source = new ArrayPageSource([2, 2]);
    const flaky = new RecordingSink('flaky', {
      failOn: (call) => (call <= 2 ? coreError('KEFU_HTTP_NETWORK', 'connection reset') : undefined),
    });
    const retries: number[] = [];
    await pipeToSinks(new RecordStream(fixtureKey, source), [flaky], {
      checkpointKey: 'k',
      batchSize: 2,
      writeRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: 0 },
      onWriteRetry: ({ attempt }) => retries.push(attempt),
    });
    expect(retries).toEqual([1, 2]);
    expect(flaky.accepted).toEqual(allIds(source));
  });

  it('given one of two sinks failing on batch 2, then the other has it, commits stop before it, and a re-run from the commit delivers the rest to both', async () => {
    const source = new ArrayPageSource(pagesOf(5, 2));
    const good = new RecordingSink('good');
    let broken = true;
    const bad = new RecordingSink('bad', {
      failOn: (_call, batch) => (broken && batch.records[0]?.id === 'r2' ? new Error('rejected') : undefined),
    });
    const commits: Checkpoint[] = [];
    const error = await pipeToSinks(new RecordStream(fixtureKey, source), [good, bad], {
      checkpointKey: 'k',
      batchSize: 2,
      commit: (checkpoint) => {
        commits.push(checkpoint);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEFU_SINK_FAILED', details: { sink: 'bad' } });
    expect(good.accepted).toEqual(expect.arrayContaining(['r0', 'r1', 'r2', 'r3']));
    expect(bad.accepted).toEqual(['r0', 'r1']);
    expect(commits).toHaveLength(1);
    broken = false;
    await pipeToSinks(new RecordStream(fixtureKey, source, commits[0]), [good, bad], {
      checkpointKey: 'k',
      batchSize: 2,
    });
    expect(new Set(good.accepted)).toEqual(new Set(allIds(source)));
    expect(bad.accepted).toEqual(allIds(source));
  });

  it('given an abort mid-run, then batches already read are committed, the call rejects with KEFU_SYNC_ABORTED, and the commit resumes exactly the rest', async () => {
    const source = new ArrayPageSource(pagesOf(20, 2), { beforePage: () => turns(1) });
    const sink = new RecordingSink('s', { beforeWrite: () => turns(2) });
    const controller = new AbortController();
    let last: Checkpoint | undefined;
    const error = await pipeToSinks(new RecordStream(fixtureKey, source), [sink], {
      checkpointKey: 'k',
      batchSize: 2,
      signal: controller.signal,
      commit: (checkpoint, batch) => {
        last = checkpoint;
        if (batch.records[0]?.id === 'r6') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_SYNC_ABORTED');
    expect(sink.accepted.length).toBeLessThan(40);
    // Everything the sink accepted is covered by the last commit, or comes again after it.
    const rest = await readIds(source, last);
    expect([...sink.accepted.slice(0, 40 - rest.length), ...rest]).toEqual(allIds(source));
  });

  it('never loses a record: with a sink failing at a random batch, commit + re-run delivers every record to every sink', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (sizes, batchSize, failCall, maxInFlightBatches) => {
          const source = new ArrayPageSource(sizes);
          const steady = new RecordingSink('steady', { beforeWrite: () => turns(1) });
          let armed = true;
          const failing = new RecordingSink('failing', {
            failOn: (call) => (armed && call === failCall ? new Error('random failure') : undefined),
          });
          let committed: Checkpoint | undefined;
          const options = {
            checkpointKey: 'k',
            batchSize,
            maxInFlightBatches,
            commit: (checkpoint: Checkpoint) => {
              committed = checkpoint;
            },
          };
          await pipeToSinks(new RecordStream(fixtureKey, source), [steady, failing], options).catch(() => undefined);
          armed = false;
          await pipeToSinks(new RecordStream(fixtureKey, source, committed), [steady, failing], options);
          expect(new Set(steady.accepted)).toEqual(new Set(allIds(source)));
          expect(new Set(failing.accepted)).toEqual(new Set(allIds(source)));
          // The failing sink got each batch in order: its log is the full sequence with at most a replayed gap.
          expect(failing.accepted.at(-1) ?? undefined).toBe(allIds(source).at(-1));
        },
      ),
      { numRuns: 80 },
    );
  });
});
