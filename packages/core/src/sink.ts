import type { Checkpoint } from './checkpoint.js';
import type { KefuRecord, StreamKey } from './record.js';

/**
 * A batch handed to a sink: records of one stream, in order, and the checkpoint just
 * after the last of them. Sinks that commit transactionally can store the checkpoint
 * with the records (exactly-once); the others ignore it.
 */
export interface RecordBatch {
  stream: StreamKey;
  /** The checkpoint-store key the pipeline uses for this stream (`job/provider/account`). */
  checkpointKey: string;
  records: readonly KefuRecord[];
  checkpoint: Checkpoint;
}

/** Delivery guarantee a sink gives when used with the sync pipeline. */
export type DeliveryGuarantee = 'at-least-once' | 'exactly-once';

/**
 * Where records go. `write` resolves only once the batch is durably accepted: that
 * acknowledgement is what lets the pipeline advance the checkpoint.
 */
export interface RecordSink {
  /** Instance id, unique in one runtime. */
  readonly id: string;
  /** `exactly-once` only when replayed batches are ignored and the checkpoint commits with the records. */
  readonly guarantee: DeliveryGuarantee;
  /** Durably accepts a batch; rejects with a KefuError when it cannot. */
  write(batch: RecordBatch): Promise<void>;
  /** Flushes anything buffered and releases resources; idempotent. */
  close(): Promise<void>;
  /**
   * Checks that the sink can accept data (connects, migrates, probes the target) without
   * writing records, rejecting with a KefuError that says what to fix (`kefu doctor`). Optional.
   */
  check?(): Promise<void>;
}
