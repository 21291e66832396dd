import { MemoryCheckpointStore, runSync } from '@kefu/core';
import { recordingSink } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beijingMidnightDaysAgo, rawKey, startWechatFixture } from './support/wechat-fixture.js';

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
    const sink = recordingSink();
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
