import { type KefuRecord, MemoryCheckpointStore, type RecordBatch, type RecordSink, runSync } from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beijingMidnightDaysAgo, rawKey, startWechatFixture } from './support/wechat-fixture.js';

/** A sink that keeps what it accepted, in order. */
function arraySink(): RecordSink & { records: KefuRecord[] } {
  const records: KefuRecord[] = [];
  return {
    id: 'array',
    guarantee: 'at-least-once',
    records,
    async write(batch: RecordBatch) {
      records.push(...batch.records);
    },
    async close() {},
  };
}

describe('the core sync pipeline with the wechat-mp provider', () => {
  let fixture: Awaited<ReturnType<typeof startWechatFixture>>;
  beforeAll(async () => {
    fixture = await startWechatFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('given the daily quota runs out mid-sync, then the target stops as quota-exhausted and the next run completes it', async () => {
    const provider = fixture.makeProvider({ pageSize: 30 });
    const from = beijingMidnightDaysAgo(fixture.emulator.clock.now(), 12);
    const to = new Date(from.getTime() + 10 * 86_400_000);
    const sink = arraySink();
    const checkpoints = new MemoryCheckpointStore();
    const options = {
      targets: [{ provider, account: fixture.appId }],
      sinks: [sink],
      checkpoints,
      from,
      to,
      batchSize: 25,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: 1 },
    };
    fixture.emulator.setFaults({ wechatDailyQuotaAfterCalls: 8 });
    const first = await runSync(options).done;
    expect(first.targets[0]?.status).toBe('quota-exhausted');
    const partial = sink.records.length;
    expect(partial).toBeGreaterThan(0);

    fixture.emulator.setFaults({});
    const second = await runSync(options).done;
    expect(second.targets[0]?.status).toBe('done');
    const expected = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to }).map(rawKey);
    // At-least-once: a replayed batch would repeat ids; here the checkpoint made the second run start exactly after the first.
    expect(new Set(sink.records.map((r) => r.id)).size).toBe(sink.records.length);
    expect(sink.records.map(rawKey)).toEqual(expected);
  });
});
