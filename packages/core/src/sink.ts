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

/** First buffer size of {@link encodeUtf8Lines}; it doubles as needed. */
const INITIAL_LINES_BYTES = 64 * 1024;

/**
 * The UTF-8 bytes of one text line per item, concatenated (`line` adds its own line
 * ending). Each line is encoded on its own into one growing buffer: encoding a whole
 * batch as one large string was measured 3× slower (about 3.5 µs against 1 µs per record
 * for JSON Lines with Chinese text), as V8's UTF-8 writer is slow on large two-byte strings.
 */
export function encodeUtf8Lines<T>(items: Iterable<T>, line: (item: T) => string): Buffer {
  let buffer = Buffer.allocUnsafe(INITIAL_LINES_BYTES);
  let length = 0;
  for (const item of items) {
    const text = line(item);
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    const needed = length + text.length * 3;
    if (needed > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    length += buffer.write(text, length, 'utf8');
  }
  return buffer.subarray(0, length);
}
