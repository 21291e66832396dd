import type { KefuRecord, PushSpool, RecordBatch, RecordSink, SpoolDownloadRequest } from '@kefu/core';

/** Options of {@link SpoolAppendingSink}. */
export interface SpoolAppendingSinkOptions {
  spool: PushSpool;
  /** Changes records before they are spooled (the media archive links its locations). */
  prepareRecords?: (records: readonly KefuRecord[]) => readonly KefuRecord[];
  /** Media downloads to record with the records, in the same commit. */
  downloadsOf?: (records: readonly KefuRecord[], acceptedAt: number) => readonly SpoolDownloadRequest[];
  /** Told about records spooled for the first time (the media archive queues their downloads). */
  onStored?: (records: readonly KefuRecord[], queued: number) => void;
}

/**
 * The sink of the pulls doorbell pushes ask for (WeCom `kf_msg_or_event`): each batch goes
 * into the spool exactly as pushed records do — media linked and their downloads recorded in
 * the same commit, records already seen left out — and the drainer delivers it to the sinks.
 * The batch is acknowledged (and the pull's checkpoint may advance) once the spool has it.
 */
export class SpoolAppendingSink implements RecordSink {
  readonly id = 'spool';
  readonly guarantee = 'at-least-once' as const;
  readonly #options: SpoolAppendingSinkOptions;

  constructor(options: SpoolAppendingSinkOptions) {
    this.#options = options;
  }

  async write(batch: RecordBatch): Promise<void> {
    if (batch.records.length === 0) return;
    const { prepareRecords, downloadsOf, onStored, spool } = this.#options;
    const records = prepareRecords ? prepareRecords(batch.records) : batch.records;
    const first = records[0] as KefuRecord;
    const last = records.at(-1) as KefuRecord;
    const stored = await spool.append({
      // The same batch re-read after a crash carries the same key; its records dedupe one by one anyway.
      dedupeKey: `pull:${batch.checkpointKey}:${first.id}:${last.id}:${records.length}`,
      records,
      ...(downloadsOf ? { downloads: downloadsOf(records, Date.now()) } : {}),
    });
    if (!stored.duplicate && stored.queued > 0) onStored?.(records, stored.queued);
  }

  /** The spool is closed by `kefu serve`, not here. */
  async close(): Promise<void> {}
}
