import { type Checkpoint, coreError, type KefuRecord, type RecordBatch, type TransactionalSink } from '@kefu/core';
import { createScriptedProvider, describeProvider, describeSink, makeRecords } from '@kefu/testkit';

// The kit checks itself: a scripted provider and a minimal in-memory sink must pass.

describeProvider('scripted provider', async () => {
  const provider = createScriptedProvider({
    platform: 'scripted',
    accounts: { 'account-1': makeRecords(95, { provider: 'scripted', account: 'account-1' }) },
    pageSize: 10,
  });
  return {
    provider,
    query: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
    pageRequests: () => provider.pageRequests,
    failingQuery: { account: 'no-such-account', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
  };
});

/**
 * A sink that "persists" into a map shared with its reader, and can be broken on demand.
 * Exactly-once, so a TransactionalSink: each write stores the records and the checkpoint together.
 */
class MemorySink implements TransactionalSink {
  readonly id = 'memory';
  readonly guarantee = 'exactly-once' as const;
  broken = false;
  readonly #checkpoints = new Map<string, Checkpoint>();
  constructor(readonly store: Map<string, KefuRecord>) {}
  async write(batch: RecordBatch): Promise<void> {
    if (this.broken) throw coreError('KEFU_SINK_FAILED', 'memory sink is broken');
    for (const record of batch.records) this.store.set(record.id, structuredClone(record));
    this.#checkpoints.set(batch.checkpointKey, structuredClone(batch.checkpoint));
  }
  async load(key: string): Promise<Checkpoint | undefined> {
    return this.#checkpoints.get(key);
  }
  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    this.#checkpoints.set(key, structuredClone(checkpoint));
  }
  async close(): Promise<void> {}
}

describeSink('in-memory sink', async () => {
  const store = new Map<string, KefuRecord>();
  const sink = new MemorySink(store);
  return {
    sink,
    readBack: async () => [...store.values()],
    breakSink: async () => {
      sink.broken = true;
    },
    repairSink: async () => {
      sink.broken = false;
    },
  };
});
