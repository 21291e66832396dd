import {
  type Checkpoint,
  type CheckpointStore,
  coreError,
  createJsonLogger,
  type KefuProvider,
  MAX_DISTINCT_WARNINGS,
  MemoryCheckpointStore,
  type ProviderWarning,
  type RecordQueryInput,
  RecordStream,
  runSync,
  type SyncProgressEvent,
} from '@kefu/core';
import fc from 'fast-check';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ArrayPageSource, type ArrayPageSourceOptions, RecordingSink, turns } from './record-stream-fixtures.js';

const FROM = new Date('2026-11-01T00:00:00Z');
const TO = new Date('2026-11-02T00:00:00Z');
const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4, jitter: 0 };
const pagesOf = (count: number, size: number) => Array.from({ length: count }, () => size);

/** An in-test provider: one deterministic page source per account. */
class FakeProvider implements KefuProvider {
  readonly platform = 'p';
  readonly capabilities = new Set<never>();
  readonly sources = new Map<string, ArrayPageSource>();
  open = 0;
  maxOpen = 0;

  constructor(
    readonly id: string,
    layout: Record<string, number[]>,
    options: ArrayPageSourceOptions = {},
  ) {
    for (const [account, sizes] of Object.entries(layout)) {
      this.sources.set(account, new ArrayPageSource(sizes, { ...options, key: { provider: 'p', account } }));
    }
  }

  accounts(): string[] {
    return [...this.sources.keys()];
  }

  source(account: string): ArrayPageSource {
    return this.sources.get(account) as ArrayPageSource;
  }

  records(query: RecordQueryInput): RecordStream {
    const account = query.account as string;
    const source = this.source(account);
    // Count streams being read at once (for the concurrency bound).
    const counting = {
      pages: async function* (
        this: FakeProvider,
        position: Parameters<ArrayPageSource['pages']>[0],
        signal: AbortSignal,
      ) {
        this.open++;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        try {
          yield* source.pages(position, signal);
        } finally {
          this.open--;
        }
      }.bind(this),
    };
    return new RecordStream({ provider: 'p', account }, counting, query.resumeFrom);
  }

  async close(): Promise<void> {}
}

async function readIds(provider: FakeProvider, account: string, resumeFrom?: Checkpoint): Promise<string[]> {
  const records = await firstValueFrom(provider.records({ account, from: FROM, to: TO, resumeFrom }).pipe(toArray()));
  return records.map((r) => r.id);
}

const allIds = (provider: FakeProvider, account: string) => provider.source(account).records.map((r) => r.id);

/** A store that checks, at every save, that every record before the checkpoint was acknowledged by every sink. */
class AckCheckingStore extends MemoryCheckpointStore {
  saves = 0;
  violations: string[] = [];
  constructor(
    readonly provider: FakeProvider,
    readonly sinks: RecordingSink[],
  ) {
    super();
  }
  override async save(key: string, checkpoint: Checkpoint): Promise<void> {
    this.saves++;
    // What the sinks hold at the moment of the save, before anything else can run.
    const acceptedNow = this.sinks.map((sink) => ({ id: sink.id, accepted: new Set(sink.accepted) }));
    const account = key.split('/').at(-1) as string;
    const rest = new Set(await readIds(this.provider, account, checkpoint));
    const before = allIds(this.provider, account).filter((id) => !rest.has(id));
    for (const sink of acceptedNow) {
      for (const id of before) if (!sink.accepted.has(id)) this.violations.push(`${sink.id} lacks ${account}:${id}`);
    }
    await super.save(key, checkpoint);
  }
}

describe('runSync', () => {
  it('given two targets and two sinks, then every record reaches both sinks, checkpoints are stored per key and progress ends with done', async () => {
    const provider = new FakeProvider('prov', { a: [3, 0, 4], b: [2, 2] });
    const sinks = [new RecordingSink('s1'), new RecordingSink('s2')];
    const store = new MemoryCheckpointStore();
    const run = runSync({
      targets: [
        { provider, account: 'a' },
        { provider, account: 'b' },
      ],
      sinks,
      checkpoints: store,
      from: FROM,
      to: TO,
      batchSize: 2,
    });
    const events = firstValueFrom(run.progress$.pipe(toArray()));
    const summary = await run.done;
    expect(summary.stopped).toBe(false);
    expect(summary.records).toBe(11);
    expect(summary.targets.map((t) => [t.target, t.status, t.records, t.pages])).toEqual([
      ['prov/a', 'done', 7, 3],
      ['prov/b', 'done', 4, 2],
    ]);
    for (const sink of sinks) {
      expect(sink.accepted.filter((id) => id.startsWith('r')).length).toBe(11);
    }
    expect(await readIds(provider, 'a', await store.load('default/prov/a'))).toEqual([]);
    expect(await readIds(provider, 'b', await store.load('default/prov/b'))).toEqual([]);
    const types = new Set((await events).map((e) => e.type));
    expect(types).toEqual(new Set(['started', 'page', 'batch-committed', 'target-done', 'done']));
    // A late subscriber still gets the final event.
    const late = await firstValueFrom(run.progress$);
    expect(late).toMatchObject({ type: 'done', records: 11 });
  });

  it('given a slow sink, then a checkpoint is stored only after every sink acknowledged every record before it', async () => {
    const provider = new FakeProvider('prov', { a: pagesOf(12, 3) }, { beforePage: () => turns(1) });
    const sinks = [new RecordingSink('fast'), new RecordingSink('slow', { beforeWrite: (call) => turns(call % 4) })];
    const store = new AckCheckingStore(provider, sinks);
    const summary = await runSync({
      targets: [{ provider, account: 'a' }],
      sinks,
      checkpoints: store,
      from: FROM,
      to: TO,
      batchSize: 5,
      maxInFlightBatches: 3,
    }).done;
    expect(summary.targets[0]?.status).toBe('done');
    expect(store.saves).toBeGreaterThan(3);
    expect(store.violations).toEqual([]);
  });

  it('given one sink failing for good, then that target fails without advancing past the failed batch, other targets finish, and a re-run delivers the missing records to both', async () => {
    const provider = new FakeProvider('prov', { a: pagesOf(5, 2), b: [2] });
    let broken = true;
    const good = new RecordingSink('good');
    const bad = new RecordingSink('bad', {
      failOn: (_call, batch) =>
        broken && batch.stream.account === 'a' && batch.records[0]?.id === 'r4'
          ? coreError('KEFU_CONFIG_INVALID', 'table missing')
          : undefined,
    });
    const store = new AckCheckingStore(provider, [good, bad]);
    const options = {
      targets: [
        { provider, account: 'a' },
        { provider, account: 'b' },
      ],
      sinks: [good, bad],
      checkpoints: store,
      from: FROM,
      to: TO,
      batchSize: 2,
      retry: FAST_RETRY,
    };
    const first = await runSync(options).done;
    expect(first.targets.map((t) => t.status)).toEqual(['failed', 'done']);
    expect(first.targets[0]?.error).toMatchObject({ code: 'KEFU_SINK_FAILED', details: { sink: 'bad' } });
    expect(good.accepted).toEqual(expect.arrayContaining(['r4', 'r5']));
    const stored = await store.load('default/prov/a');
    expect(await readIds(provider, 'a', stored)).toEqual(allIds(provider, 'a').slice(4));
    expect(store.violations).toEqual([]);

    broken = false;
    const second = await runSync(options).done;
    expect(second.targets.map((t) => t.status)).toEqual(['done', 'done']);
    expect(second.targets[0]?.records).toBe(6);
    for (const sink of [good, bad]) expect(new Set(sink.accepted)).toEqual(new Set(allIds(provider, 'a')));
  });

  it('given the checkpoint store is an exactly-once sink beside a failing one, then its committed checkpoint never passes the failed batch and no separate save is made per batch', async () => {
    /** A transactional sink that is also the checkpoint store: write() commits records and checkpoint together. */
    class TransactionalSink extends RecordingSink implements CheckpointStore {
      override readonly guarantee = 'exactly-once' as unknown as 'at-least-once';
      readonly stored = new MemoryCheckpointStore();
      /** Saves outside write(): only the range recorded before the target starts and the mark at its end. */
      saves: Array<'range' | 'complete' | 'per-batch'> = [];
      override async write(batch: Parameters<RecordingSink['write']>[0]): Promise<void> {
        await super.write(batch);
        await this.stored.save(batch.checkpointKey, batch.checkpoint);
      }
      load(key: string) {
        return this.stored.load(key);
      }
      async save(key: string, checkpoint: Checkpoint) {
        this.saves.push(
          checkpoint.position === null ? 'range' : checkpoint.requested?.complete ? 'complete' : 'per-batch',
        );
        await this.stored.save(key, checkpoint);
      }
    }
    const provider = new FakeProvider('prov', { a: pagesOf(5, 2) });
    const database = new TransactionalSink('db');
    // The other sink is slow and fails on the third batch: the database must not run ahead of it.
    const bad = new RecordingSink('bad', {
      beforeWrite: () => turns(3),
      failOn: (_call, batch) =>
        batch.records[0]?.id === 'r4' ? coreError('KEFU_CONFIG_INVALID', 'disk full') : undefined,
    });
    const options = {
      targets: [{ provider, account: 'a' }],
      sinks: [database, bad],
      checkpoints: database,
      from: FROM,
      to: TO,
      batchSize: 2,
      maxInFlightBatches: 3,
      retry: FAST_RETRY,
    };
    const first = await runSync(options).done;
    expect(first.targets[0]?.status).toBe('failed');
    expect(database.accepted).toEqual(['r0', 'r1', 'r2', 'r3']);
    const stored = await database.load('default/prov/a');
    expect(await readIds(provider, 'a', stored)).toEqual(allIds(provider, 'a').slice(4));
    expect(database.saves).toEqual(['range']);

    const clean = new TransactionalSink('db2');
    const second = await runSync({ ...options, sinks: [clean], checkpoints: clean }).done;
    expect(second.targets[0]?.status).toBe('done');
    expect(clean.accepted).toEqual(allIds(provider, 'a'));
    expect(clean.saves).toEqual(['range', 'complete']);
    expect(await readIds(provider, 'a', await clean.load('default/prov/a'))).toEqual([]);
  });

  it('given a stored checkpoint, then the sync delivers exactly the records after it', async () => {
    const provider = new FakeProvider('prov', { a: [3, 3, 3] });
    const positioned = await firstValueFrom(
      provider.records({ account: 'a', from: FROM, to: TO }).positioned().pipe(toArray()),
    );
    const store = new MemoryCheckpointStore();
    await store.save('nightly/prov/a', positioned[4]?.checkpoint as Checkpoint);
    const sink = new RecordingSink('s');
    const summary = await runSync({
      job: 'nightly',
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
    }).done;
    expect(sink.accepted).toEqual(['r5', 'r6', 'r7', 'r8']);
    expect(summary.records).toBe(4);
  });

  it('given retryable sink and stream errors, then both are retried with back-off and nothing is lost', async () => {
    const failures = { failAt: 2 as number | undefined };
    const provider = new FakeProvider(
      'prov',
      { a: pagesOf(4, 2) },
      {
        failAt: () => failures.failAt,
        failWith: () => {
          failures.failAt = undefined;
          return coreError('KEFU_HTTP_NETWORK', 'connection reset by peer');
        },
      },
    );
    const sink = new RecordingSink('flaky', {
      failOn: (call) => (call === 1 ? coreError('KEFU_HTTP_TIMEOUT', 'sink timed out') : undefined),
    });
    const events: SyncProgressEvent[] = [];
    const run = runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
      batchSize: 2,
      retry: FAST_RETRY,
    });
    run.progress$.subscribe((e) => events.push(e));
    const summary = await run.done;
    expect(summary.targets[0]).toMatchObject({ status: 'done', retries: 2, errors: 2 });
    expect(new Set(sink.accepted)).toEqual(new Set(allIds(provider, 'a')));
    expect(events.filter((e) => e.type === 'retry').map((e) => e.error?.code)).toEqual([
      'KEFU_HTTP_TIMEOUT',
      'KEFU_HTTP_NETWORK',
    ]);
  });

  it('given a provider reporting an exhausted quota, then the target stops with quota-exhausted and a resumable checkpoint', async () => {
    const quota = { failAt: 3 as number | undefined };
    const provider = new FakeProvider(
      'prov',
      { a: pagesOf(6, 2) },
      {
        failAt: () => quota.failAt,
        failWith: () =>
          coreError('KEFU_HTTP_STATUS', 'WeChat 45009: api freq out of limit', { details: { quotaExhausted: true } }),
      },
    );
    const sink = new RecordingSink('s');
    const store = new MemoryCheckpointStore();
    const options = {
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
      batchSize: 2,
      retry: FAST_RETRY,
    };
    const first = await runSync(options).done;
    expect(first.targets[0]).toMatchObject({ status: 'quota-exhausted', retries: 0 });
    expect(sink.accepted).toEqual(allIds(provider, 'a').slice(0, 6));
    quota.failAt = undefined;
    const second = await runSync(options).done;
    expect(second.targets[0]?.status).toBe('done');
    expect(sink.accepted).toEqual(allIds(provider, 'a'));
  });

  it('given an abort mid-run, then the sync resolves stopped with a consistent checkpoint, and a re-run completes', async () => {
    const provider = new FakeProvider('prov', { a: pagesOf(30, 2), b: pagesOf(30, 2) }, { beforePage: () => turns(1) });
    const sink = new RecordingSink('s', { beforeWrite: () => turns(2) });
    const store = new AckCheckingStore(provider, [sink]);
    const controller = new AbortController();
    const run = runSync({
      targets: [
        { provider, account: 'a' },
        { provider, account: 'b' },
      ],
      concurrency: 1,
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
      batchSize: 4,
      signal: controller.signal,
    });
    run.progress$.subscribe((e) => {
      if (e.type === 'batch-committed' && e.records >= 12) controller.abort();
    });
    const summary = await run.done;
    expect(summary.stopped).toBe(true);
    expect(summary.targets.map((t) => t.status)).toEqual(['stopped', 'stopped']);
    expect(summary.targets[0]?.records).toBeLessThan(60);
    expect(summary.targets[1]?.records).toBe(0);
    expect(store.violations).toEqual([]);
    const stored = await store.load('default/prov/a');
    expect(stored).toEqual(summary.targets[0]?.checkpoint);

    const rerun = await runSync({
      targets: [
        { provider, account: 'a' },
        { provider, account: 'b' },
      ],
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
    }).done;
    expect(rerun.targets.map((t) => t.status)).toEqual(['done', 'done']);
    expect(summary.targets[0]?.records + (rerun.targets[0]?.records ?? 0)).toBe(60);
  });

  it('given handleProcessSignals, then SIGTERM stops the sync gracefully and the listeners are removed at the end', async () => {
    const provider = new FakeProvider('prov', { a: pagesOf(50, 2) }, { beforePage: () => turns(1) });
    const sink = new RecordingSink('s');
    const before = process.listenerCount('SIGTERM');
    const run = runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
      batchSize: 2,
      handleProcessSignals: true,
    });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    // Calling our own listener, rather than signalling the test worker for real.
    const listener = process.listeners('SIGTERM').at(-1) as (signal: NodeJS.Signals) => void;
    await turns(10);
    listener('SIGTERM');
    const summary = await run.done;
    expect(summary.stopped).toBe(true);
    expect(summary.targets[0]?.status).toBe('stopped');
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('given a dry run, then records are counted but nothing is written and no checkpoint is stored', async () => {
    const provider = new FakeProvider('prov', { a: [2, 3] });
    const sink = new RecordingSink('s');
    const store = new MemoryCheckpointStore();
    const summary = await runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
      dryRun: true,
    }).done;
    expect(summary.records).toBe(5);
    expect(sink.calls).toBe(0);
    expect(await store.entries()).toEqual([]);
  });

  it('given 4 targets and concurrency 2, then at most 2 streams are read at once', async () => {
    const provider = new FakeProvider(
      'prov',
      { a: [2, 2], b: [2, 2], c: [2, 2], d: [2, 2] },
      { beforePage: () => turns(2) },
    );
    const summary = await runSync({
      targets: provider.accounts().map((account) => ({ provider, account })),
      concurrency: 2,
      sinks: [new RecordingSink('s')],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
    }).done;
    expect(summary.records).toBe(16);
    expect(provider.maxOpen).toBe(2);
  });

  it('given a checkpoint store that cannot load, then that target fails with the store error and others still run', async () => {
    const provider = new FakeProvider('prov', { a: [1], b: [1] });
    const broken: CheckpointStore = {
      load: async (key) => {
        if (key.endsWith('/a')) throw coreError('KEFU_CHECKPOINT_INVALID', 'checkpoint file x is corrupt');
        return undefined;
      },
      save: async () => undefined,
    };
    const summary = await runSync({
      targets: [
        { provider, account: 'a' },
        { provider, account: 'b' },
      ],
      sinks: [new RecordingSink('s')],
      checkpoints: broken,
      from: FROM,
      to: TO,
    }).done;
    expect(summary.targets.map((t) => t.status)).toEqual(['failed', 'done']);
  });

  it('given bad options, then runSync throws KEFU_CONFIG_INVALID saying what to fix', () => {
    const provider = new FakeProvider('prov', { a: [1] });
    const base = {
      targets: [{ provider, account: 'a' }],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
    };
    expect(() => runSync({ ...base, sinks: [] })).toThrowError(
      expect.objectContaining({ code: 'KEFU_CONFIG_INVALID', message: expect.stringContaining('dryRun') }),
    );
    expect(() => runSync({ ...base, sinks: [new RecordingSink('s')], from: TO, to: FROM })).toThrowError(
      expect.objectContaining({ code: 'KEFU_CONFIG_INVALID', message: expect.stringContaining('`from`') }),
    );
    expect(() =>
      runSync({ ...base, sinks: [new RecordingSink('s')], targets: [base.targets[0]!, base.targets[0]!] }),
    ).toThrowError(expect.objectContaining({ message: expect.stringContaining('listed twice') }));
    expect(() => runSync({ ...base, sinks: [new RecordingSink('s')], concurrency: 0 })).toThrowError(
      expect.objectContaining({ message: expect.stringContaining('concurrency') }),
    );
  });

  it('given a stream failing retryably on every attempt, then the target fails after retry.maxAttempts reopenings', async () => {
    const provider = new FakeProvider(
      'prov',
      { a: pagesOf(3, 2) },
      { failAt: 1, failWith: () => coreError('KEFU_HTTP_NETWORK', 'connection refused') },
    );
    const sink = new RecordingSink('s');
    const summary = await runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
      batchSize: 2,
      retry: FAST_RETRY,
    }).done;
    expect(summary.targets[0]).toMatchObject({ status: 'failed', retries: FAST_RETRY.maxAttempts - 1 });
    expect(summary.targets[0]?.error).toMatchObject({ code: 'KEFU_HTTP_NETWORK' });
    // The first page was committed once and never re-sent: reopening starts after it.
    expect(sink.accepted).toEqual(['r0', 'r1']);
  });

  it('given a stored checkpoint of another account, then the target fails with KEFU_CHECKPOINT_INVALID and nothing is written', async () => {
    const provider = new FakeProvider('prov', { a: [2] });
    const store = new MemoryCheckpointStore();
    await store.save('default/prov/a', { provider: 'p', account: 'b', position: 1, skip: 0 });
    const sink = new RecordingSink('s');
    const summary = await runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [sink],
      checkpoints: store,
      from: FROM,
      to: TO,
    }).done;
    expect(summary.targets[0]?.status).toBe('failed');
    expect(summary.targets[0]?.error).toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID' });
    expect(sink.calls).toBe(0);
  });

  it('given a clock, then lag is now minus the time of the last committed record', async () => {
    const provider = new FakeProvider('prov', { a: [2] });
    const lastAt = Date.parse(provider.source('a').records[1]?.at as string);
    const summary = await runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [new RecordingSink('s')],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
      now: () => lastAt + 60_000,
    }).done;
    expect(summary.targets[0]?.lagMs).toBe(60_000);
  });

  it('never loses a record: with a sink failing at random across runs, re-running until done delivers everything and no save passes an unacknowledged record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        async (sizes, batchSize, failures, maxInFlightBatches) => {
          const provider = new FakeProvider('prov', { a: sizes });
          let call = 0;
          const steady = new RecordingSink('steady');
          // Fails (non-retryably) on the write calls marked true; the pattern is finite, so runs end.
          const flaky = new RecordingSink('flaky', {
            failOn: () => (failures[call++] ? new Error('random failure') : undefined),
          });
          const store = new AckCheckingStore(provider, [steady, flaky]);
          let status = 'failed';
          for (let runs = 0; runs < 15 && status !== 'done'; runs++) {
            const summary = await runSync({
              targets: [{ provider, account: 'a' }],
              sinks: [steady, flaky],
              checkpoints: store,
              from: FROM,
              to: TO,
              batchSize,
              maxInFlightBatches,
              retry: FAST_RETRY,
            }).done;
            status = summary.targets[0]?.status ?? 'failed';
          }
          expect(status).toBe('done');
          expect(store.violations).toEqual([]);
          expect(new Set(steady.accepted)).toEqual(new Set(allIds(provider, 'a')));
          expect(new Set(flaky.accepted)).toEqual(new Set(allIds(provider, 'a')));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('runSync counts retries made inside providers', () => {
  it('given a page source that retried twice, when synced, then the summary and progress report both', async () => {
    const records = (await readIds(new FakeProvider('seed', { a: pagesOf(2, 3) }), 'a')).length;
    const inner = new FakeProvider('retrying', { a: pagesOf(2, 3) });
    const provider: KefuProvider = {
      ...inner,
      id: 'retrying',
      platform: 'p',
      capabilities: new Set(),
      accounts: () => ['a'],
      close: async () => {},
      records: (query: RecordQueryInput) => {
        const source = inner.source('a');
        return new RecordStream(
          { provider: 'p', account: 'a' },
          {
            async *pages(position, signal, context) {
              // The provider's own client retried a busy platform twice before the first page.
              context?.onRetry?.({ attempt: 1, delayMs: 1, error: coreError('KEFU_HTTP_NETWORK', 'reset') });
              context?.onRetry?.({ attempt: 2, delayMs: 2, error: coreError('KEFU_HTTP_NETWORK', 'reset') });
              yield* source.pages(position, signal);
            },
          },
          query.resumeFrom,
        );
      },
    };
    const run = runSync({
      targets: [{ provider, account: 'a' }],
      sinks: [new RecordingSink()],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
    });
    const events = firstValueFrom(run.progress$.pipe(toArray()));
    const summary = await run.done;
    expect(summary.records).toBe(records);
    expect(summary.targets[0]?.retries).toBe(2);
    expect((await events).filter((event) => event.type === 'retry')).toHaveLength(2);
  });
});

describe('runSync counts warnings reported by providers', () => {
  /** A provider whose page source reports `warnings` before its first page. */
  const warningProvider = (warnings: ProviderWarning[]): KefuProvider => {
    const inner = new FakeProvider('warning', { a: pagesOf(2, 3) });
    return {
      id: 'warning',
      platform: 'p',
      capabilities: new Set(),
      accounts: () => ['a'],
      close: async () => {},
      records: (query: RecordQueryInput) =>
        new RecordStream(
          { provider: 'p', account: 'a' },
          {
            async *pages(position, signal, context) {
              for (const warning of warnings) context?.onWarning?.(warning);
              yield* inner.source('a').pages(position, signal);
            },
          },
          query.resumeFrom,
        ),
    };
  };

  it('given repeated and distinct warnings, when synced, then the summary counts all and keeps the first of each code, and each is an event and a warn log line', async () => {
    const codes = Array.from({ length: MAX_DISTINCT_WARNINGS + 2 }, (_, i) => `P_WARNING_${i}`);
    const warnings = [
      { code: 'P_WARNING_0', message: 'first of code 0', details: { n: 1 } },
      { code: 'P_WARNING_0', message: 'second of code 0' },
      ...codes.slice(1).map((code) => ({ code, message: `only ${code}` })),
    ];
    const lines: string[] = [];
    const run = runSync({
      targets: [{ provider: warningProvider(warnings), account: 'a' }],
      sinks: [new RecordingSink()],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
      logger: createJsonLogger({ level: 'warn', write: (line) => lines.push(line) }),
    });
    const events = firstValueFrom(run.progress$.pipe(toArray()));
    const summary = await run.done;
    const target = summary.targets[0]!;
    expect(target.status).toBe('done');
    expect(target.warnings.count).toBe(warnings.length);
    expect(target.warnings.distinct.map((w) => w.code)).toEqual(codes.slice(0, MAX_DISTINCT_WARNINGS));
    expect(target.warnings.distinct[0]).toEqual(warnings[0]);
    const warningEvents = (await events).filter((event) => event.type === 'warning');
    expect(warningEvents.map((event) => event.warning?.message)).toEqual(warnings.map((w) => w.message));
    const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string; code?: string });
    expect(
      logged.filter((entry) => entry.msg === 'provider warning').map((entry) => [entry.level, entry.code]),
    ).toEqual(warnings.map((w) => ['warn', w.code]));
  });

  it('given no warnings, when synced, then the summary reports none', async () => {
    const summary = await runSync({
      targets: [{ provider: warningProvider([]), account: 'a' }],
      sinks: [new RecordingSink()],
      checkpoints: new MemoryCheckpointStore(),
      from: FROM,
      to: TO,
    }).done;
    expect(summary.targets[0]?.warnings).toEqual({ count: 0, distinct: [] });
  });
});
