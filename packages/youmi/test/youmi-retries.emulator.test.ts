import { MemoryCheckpointStore, type RecordBatch, type RecordSink, runSync } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

const DAY = 86_400_000;
let running: YoumiEmulator | undefined;
let provider: YoumiProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await running?.emulator.stop();
});

/** Keeps what it is given, by id. */
class CollectingSink implements RecordSink {
  readonly id = 'collect';
  readonly guarantee = 'at-least-once' as const;
  readonly ids = new Set<string>();
  async write(batch: RecordBatch): Promise<void> {
    for (const record of batch.records) this.ids.add(record.id);
  }
  async close(): Promise<void> {}
}

describe('Youmi retries reach the sync', () => {
  it('given a platform failing 20 % of calls and revoking tokens, when synced, then every chat arrives and the retries are counted', async () => {
    running = await startYoumiEmulator({}, { serverErrorRate: 0.2, revokeTokenEveryCalls: 7, seed: 11 });
    const emulator = running;
    provider = new YoumiProvider(
      emulator.config({ retry: { maxAttempts: 8, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 } }),
      {
        now: () => emulator.emulator.clock.now(),
      },
    );
    const from = new Date(emulator.start - 3 * DAY);
    const to = new Date(emulator.start);
    const sink = new CollectingSink();
    const summary = await runSync({
      targets: [{ provider, account: '10001' }],
      sinks: [sink],
      checkpoints: new MemoryCheckpointStore(),
      from,
      to,
    }).done;
    const expected = emulator.youmi.expectedChats({ wechatId: 10001, from, to });
    expect(summary.targets[0]?.status).toBe('done');
    expect(sink.ids.size).toBe(expected.length);
    const faulted = emulator.emulator.requests.entries().filter((entry) => entry.fault !== undefined).length;
    expect(faulted).toBeGreaterThan(0);
    expect(summary.targets[0]?.retries).toBeGreaterThanOrEqual(faulted);
  });
});
