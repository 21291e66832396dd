import {
  type Checkpoint,
  isKefuError,
  isTransactionalSink,
  type KefuRecord,
  type RecordBatch,
  type RecordSink,
} from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRecords } from './scripted-source.js';

/** What a sink author hands to {@link describeSink} for each check. */
export interface SinkUnderTest {
  sink: RecordSink;
  /**
   * Reads back what is durably stored, through a fresh reader (a new connection, a new
   * file handle): what `write` acknowledged must be there even if the sink vanished.
   */
  readBack: () => Promise<KefuRecord[]>;
  /** Makes the next writes fail (e.g. stop the receiving server, revoke permissions); optional. */
  breakSink?: () => Promise<void>;
  /** Undoes {@link SinkUnderTest.breakSink}. */
  repairSink?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

/** Tuning of {@link describeSink}. */
export interface DescribeSinkOptions {
  /** The sink ignores replayed batches (default: when `guarantee` is exactly-once). */
  idempotentReplay?: boolean;
  /** Records per test batch (default 50). */
  batchSize?: number;
  /** Run the failure check; the setup must then provide `breakSink` (default true). */
  failureInjection?: boolean;
}

const STREAM = { provider: 'conformance', account: 'account-1' };

function batchOf(records: readonly KefuRecord[], index: number): RecordBatch {
  const checkpoint: Checkpoint = { ...STREAM, position: index + 1, skip: 0, recordAt: records.at(-1)?.at };
  return { stream: STREAM, checkpointKey: 'conformance/account-1', records, checkpoint };
}

function batches(count: number, size: number): RecordBatch[] {
  const records = makeRecords(count * size, STREAM);
  return Array.from({ length: count }, (_, i) => batchOf(records.slice(i * size, (i + 1) * size), i));
}

/**
 * The sink conformance suite: call it from your own vitest file.
 *
 * @example
 * ```ts
 * describeSink('jsonl', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'sink-'));
 *   const sink = new MySink({ dir });
 *   return { sink, readBack: () => readMyFiles(dir), teardown: () => rm(dir, { recursive: true }) };
 * });
 * ```
 *
 * Longer than 100 lines on purpose: a suite is a list of checks, read top to bottom.
 */
export function describeSink(
  name: string,
  setup: () => Promise<SinkUnderTest>,
  options: DescribeSinkOptions = {},
): void {
  const size = options.batchSize ?? 50;

  // One callback over 100 lines on purpose: the suite's cases share `open` and its teardown, read top to bottom.
  describe(`sink conformance: ${name}`, () => {
    let current: SinkUnderTest | undefined;
    const open = async () => {
      current = await setup();
      return current;
    };
    afterEach(async () => {
      await current?.sink.close();
      await current?.teardown?.();
      current = undefined;
    });

    it('has stored a batch durably once write resolves', async () => {
      const { sink, readBack } = await open();
      const [batch] = batches(1, size);
      await sink.write(batch!);
      const stored = await readBack();
      expect(stored.map((r) => r.id).sort()).toEqual(batch!.records.map((r) => r.id).sort());
    });

    it('stores records losslessly (multi-byte text, emoji, control characters, raw)', async () => {
      const { sink, readBack } = await open();
      const [record] = makeRecords(1, STREAM);
      const tricky: KefuRecord = {
        ...record!,
        text: '你好，客服\u0007\t"quoted", line\nbreak 🙂',
        raw: { text: '你好\u0007', big: '12345678901234567890', nested: { list: [1, 'two', null] } },
      };
      await sink.write(batchOf([tricky], 0));
      const [stored] = await readBack();
      expect(stored?.text).toBe(tricky.text);
      expect(stored?.raw).toEqual(tricky.raw);
    });

    it('accepts a record-less batch that only advances the checkpoint', async () => {
      const { sink, readBack } = await open();
      await sink.write(batchOf([], 0));
      expect(await readBack()).toEqual([]);
    });

    it('keeps every record of concurrent writes', async () => {
      const { sink, readBack } = await open();
      const all = batches(4, size);
      await Promise.all(all.map((batch) => sink.write(batch)));
      const stored = await readBack();
      expect(new Set(stored.map((r) => r.id))).toEqual(new Set(all.flatMap((b) => b.records.map((r) => r.id))));
    });

    it('handles a replayed batch as its guarantee says', async () => {
      const { sink, readBack } = await open();
      const [batch] = batches(1, size);
      await sink.write(batch!);
      await sink.write(batch!);
      const stored = await readBack();
      const idempotent = options.idempotentReplay ?? sink.guarantee === 'exactly-once';
      if (idempotent) expect(stored.length).toBe(size);
      else expect(stored.length).toBeGreaterThanOrEqual(size);
      expect(new Set(stored.map((r) => r.id)).size).toBe(size);
    });

    it('keeps its guarantee: an exactly-once sink is a TransactionalSink committing each checkpoint with its records', async () => {
      const { sink } = await open();
      expect(['at-least-once', 'exactly-once']).toContain(sink.guarantee);
      if (sink.guarantee !== 'exactly-once') return;
      if (!isTransactionalSink(sink))
        throw new Error(`${sink.id}: exactly-once without load/save is not a TransactionalSink`);
      const [first, second] = batches(2, size);
      expect(await sink.load(first!.checkpointKey)).toBeUndefined();
      await sink.write(first!);
      expect(await sink.load(first!.checkpointKey)).toEqual(first!.checkpoint);
      await sink.write(second!);
      expect(await sink.load(second!.checkpointKey)).toEqual(second!.checkpoint);
    });

    it('flushes on close and closes idempotently', async () => {
      const { sink, readBack } = await open();
      const all = batches(2, size);
      for (const batch of all) await sink.write(batch);
      await sink.close();
      await expect(sink.close()).resolves.toBeUndefined();
      expect((await readBack()).length).toBe(2 * size);
    });

    it.runIf(options.failureInjection ?? true)(
      'after a failure rejects with a typed error and loses nothing acknowledged',
      async () => {
        const subject = await open();
        if (!subject.breakSink)
          throw new Error('describeSink: provide breakSink in the setup, or pass { failureInjection: false }');
        const [first, second, third] = batches(3, size);
        await subject.sink.write(first!);
        await subject.breakSink();
        const error = await subject.sink.write(second!).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isKefuError(error)).toBe(true);
        await subject.repairSink?.();
        await subject.sink.write(second!);
        await subject.sink.write(third!);
        const ids = new Set((await subject.readBack()).map((r) => r.id));
        for (const record of [...first!.records, ...second!.records, ...third!.records])
          expect(ids.has(record.id)).toBe(true);
      },
    );
  });
}
