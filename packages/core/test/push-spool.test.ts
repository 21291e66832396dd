import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KefuRecord,
  liveCheckpointKey,
  PushSpool,
  type RecordBatch,
  type RecordSink,
  SpoolDedupingSink,
  SpoolDrainer,
} from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRecord } from './record-stream-fixtures.js';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-push-spool-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A sink that keeps what it acknowledged and fails while `failing` is set. */
class MemorySink implements RecordSink {
  readonly guarantee = 'at-least-once' as const;
  readonly batches: RecordBatch[] = [];
  failing = false;
  attempts = 0;
  constructor(readonly id: string) {}
  get records(): KefuRecord[] {
    return this.batches.flatMap((batch) => [...batch.records]);
  }
  async write(batch: RecordBatch): Promise<void> {
    this.attempts += 1;
    if (this.failing) throw new Error(`${this.id} is down`);
    this.batches.push(batch);
  }
  async close(): Promise<void> {}
}

const fastRetry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 };

describe('PushSpool', () => {
  it('given a push accepted twice (a retry), then the second is a duplicate and nothing more is queued', async () => {
    const spool = PushSpool.open({ path: join(scratch, 'retry.sqlite') });
    const first = await spool.append({ dedupeKey: 'k1', records: [fixtureRecord(1)] });
    const again = await spool.append({ dedupeKey: 'k1', records: [fixtureRecord(1)] });
    expect(first).toEqual({ duplicate: false, queued: 1 });
    expect(again).toEqual({ duplicate: true, queued: 0 });
    expect(spool.depth()).toBe(1);
    spool.close();
  });

  it('given two pushes carrying the same record id, then the record is queued once', async () => {
    const spool = PushSpool.open({ path: ':memory:' });
    const results = await Promise.all([
      spool.append({ dedupeKey: 'a', records: [fixtureRecord(1), fixtureRecord(2)] }),
      spool.append({ dedupeKey: 'b', records: [fixtureRecord(2), fixtureRecord(3)] }),
    ]);
    expect(results.map((result) => result.queued)).toEqual([2, 1]);
    expect(spool.take(10).map((entry) => entry.record.id)).toEqual(['r1', 'r2', 'r3']);
    spool.close();
  });

  it('given an accepted push, when the spool is reopened (a restart), then the record and its dedupe key are still there; the file is 0600', async () => {
    const path = join(scratch, 'restart.sqlite');
    const spool = PushSpool.open({ path });
    await spool.append({ dedupeKey: 'k', records: [fixtureRecord(7)] });
    spool.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reopened = PushSpool.open({ path });
    expect(reopened.take(10).map((entry) => entry.record)).toEqual([fixtureRecord(7)]);
    expect(await reopened.append({ dedupeKey: 'k', records: [fixtureRecord(7)] })).toEqual({
      duplicate: true,
      queued: 0,
    });
    reopened.close();
  });

  it('given a dedupe window, when it has passed, then the same push is accepted again', async () => {
    let now = 1_000_000;
    const spool = PushSpool.open({ path: ':memory:', dedupeWindowMs: 1000, now: () => now });
    await spool.append({ dedupeKey: 'k', records: [] });
    now += 120_000;
    await spool.append({ dedupeKey: 'other', records: [] }); // prunes keys older than the window
    expect((await spool.append({ dedupeKey: 'k', records: [] })).duplicate).toBe(false);
    spool.close();
  });

  it('given a spool path that cannot be created, then KEFU_SPOOL_FAILED names it', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    expect(() => PushSpool.open({ path: join(file, 'spool.sqlite') })).toThrow(
      expect.objectContaining({ code: 'KEFU_SPOOL_FAILED' }),
    );
  });
});

describe('SpoolDrainer', () => {
  it('given records of two streams and two sinks, then every sink gets every record, a batch per stream run, and the spool empties', async () => {
    const spool = PushSpool.open({ path: ':memory:' });
    const other = { provider: 'q', account: 'b' };
    await spool.append({ dedupeKey: '1', records: [fixtureRecord(1), fixtureRecord(2)] });
    await spool.append({ dedupeKey: '2', records: [fixtureRecord(3, other)] });
    const sinks = [new MemorySink('s1'), new MemorySink('s2')];
    const drained: number[] = [];
    const drainer = new SpoolDrainer({ spool, sinks, onDrained: (batch) => drained.push(batch.records) });
    drainer.start();
    await drainer.stop();
    for (const sink of sinks) {
      expect(sink.records.map((record) => record.id)).toEqual(['r1', 'r2', 'r3']);
      expect(sink.batches.map((batch) => batch.checkpointKey)).toEqual([
        liveCheckpointKey('p', 'a'),
        liveCheckpointKey('q', 'b'),
      ]);
    }
    expect(drained).toEqual([2, 1]);
    expect(spool.depth()).toBe(0);
    spool.close();
  });

  it('given a sink that fails, then nothing leaves the spool until it acknowledges; the other sink may see the batch again', async () => {
    const spool = PushSpool.open({ path: ':memory:' });
    const healthy = new MemorySink('healthy');
    const flaky = new MemorySink('flaky');
    flaky.failing = true;
    let retries = 0;
    const drainer = new SpoolDrainer({
      spool,
      sinks: [healthy, flaky],
      retry: fastRetry,
      onRetry: () => {
        retries += 1;
        if (retries === 3) flaky.failing = false;
      },
    });
    drainer.start();
    await spool.append({ dedupeKey: 'x', records: [fixtureRecord(1)] });
    await expect.poll(() => flaky.records.length).toBe(1);
    expect(retries).toBe(3);
    expect(new Set(healthy.records.map((record) => record.id))).toEqual(new Set(['r1']));
    await drainer.stop();
    expect(spool.depth()).toBe(0);
    spool.close();
  });

  it('given a stop while a sink is down, then the records stay in the spool for the next start', async () => {
    const path = join(scratch, 'down.sqlite');
    const spool = PushSpool.open({ path });
    const down = new MemorySink('down');
    down.failing = true;
    await spool.append({ dedupeKey: 'x', records: [fixtureRecord(1)] });
    const drainer = new SpoolDrainer({ spool, sinks: [down], retry: fastRetry });
    drainer.start();
    await expect.poll(() => down.attempts).toBeGreaterThan(1);
    await drainer.stop(50);
    expect(spool.depth()).toBe(1);
    spool.close();
  });
});

describe('SpoolDedupingSink', () => {
  it('given a record pushed before, when the backfill meets it, then it is not written again; new ones are, and are remembered', async () => {
    const spool = PushSpool.open({ path: ':memory:' });
    await spool.append({ dedupeKey: 'push', records: [fixtureRecord(2)] });
    const sink = new MemorySink('db');
    const deduping = new SpoolDedupingSink(spool, [sink]);
    const batch = (ids: number[]): RecordBatch => ({
      stream: { provider: 'p', account: 'a' },
      checkpointKey: 'default/p/a',
      records: ids.map((id) => fixtureRecord(id)),
      checkpoint: { provider: 'p', account: 'a', position: ids.length, skip: 0 },
    });
    await deduping.write(batch([1, 2, 3]));
    expect(sink.records.map((record) => record.id)).toEqual(['r1', 'r3']);
    expect(spool.hasSeen(fixtureRecord(3))).toBe(true);
    // A push of a backfilled record is queued no more.
    expect((await spool.append({ dedupeKey: 'late', records: [fixtureRecord(3)] })).queued).toBe(0);
    spool.close();
  });
});
