import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { coreError, type KefuError } from './errors.js';
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

/**
 * A sink that is also the checkpoint store: each batch's records and its checkpoint are
 * committed together (one transaction), and replayed batches are ignored, so delivery is
 * exactly-once. Give the same object as a sink and as the sync's `checkpoints`: the
 * pipeline recognises it with {@link transactionalCheckpointSink}, hands it each batch
 * after every other sink acknowledged it, and saves no checkpoint of its own for batches
 * with records. `@kefu/sink-db`'s `DatabaseSink` is one.
 */
export interface TransactionalSink extends RecordSink, CheckpointStore {
  readonly guarantee: 'exactly-once';
  /** Flushes, then releases the connection; idempotent (closing it as a sink and as a store is one close). */
  close(): Promise<void>;
}

/** True when `value` has the shape of a {@link RecordSink}. */
export function isRecordSink(value: unknown): value is RecordSink {
  const candidate = value as Partial<RecordSink> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.id === 'string' &&
    typeof candidate.write === 'function' &&
    typeof candidate.close === 'function'
  );
}

/** True when `value` is a {@link TransactionalSink}: an exactly-once sink with `load` and `save`. */
export function isTransactionalSink(value: unknown): value is TransactionalSink {
  if (!isRecordSink(value) || value.guarantee !== 'exactly-once') return false;
  const store = value as Partial<CheckpointStore>;
  return typeof store.load === 'function' && typeof store.save === 'function';
}

/**
 * The sink of `sinks` that commits checkpoints with its records: `checkpoints` itself when
 * it is a {@link TransactionalSink} that is also one of the sinks, else `undefined` (the
 * checkpoint is then saved after every sink acknowledged the batch).
 */
export function transactionalCheckpointSink(
  sinks: readonly RecordSink[],
  checkpoints: CheckpointStore,
): TransactionalSink | undefined {
  return isTransactionalSink(checkpoints) && sinks.includes(checkpoints) ? checkpoints : undefined;
}

/**
 * The error of a write after `close()`, the same for every sink: KEFU_SINK_CLOSED with
 * `what` named (`sinkClosedError(\`file sink ${this.id}\`)` → "file sink out is closed").
 */
export function sinkClosedError(what: string): KefuError {
  return coreError('KEFU_SINK_CLOSED', `${what} is closed; create a new sink`);
}

/** First size of the buffer lines are encoded into; it doubles as needed. */
const INITIAL_LINES_BYTES = 64 * 1024;
/** The largest encoding buffer kept for the next call (a batch of 1 000 records is about 0.3 MiB). */
const MAX_KEPT_LINES_BYTES = 4 * 1024 * 1024;

/**
 * The UTF-8 bytes of one text line per item, concatenated (`line` adds its own line
 * ending). Each line is encoded on its own into one growing buffer: encoding a whole
 * batch as one large string was measured 3× slower (about 3.5 µs against 1 µs per record
 * for JSON Lines with Chinese text), as V8's UTF-8 writer is slow on large two-byte strings.
 */
export function encodeUtf8Lines<T>(items: Iterable<T>, line: (item: T) => string): Buffer {
  return encodeLines(items, line, NO_LINE_END);
}

/**
 * JSON Lines: `JSON.stringify` of each item and an LF, as UTF-8 bytes — the same bytes as
 * `encodeUtf8Lines(items, (item) => \`${JSON.stringify(item)}\n\`)`, without the copy of
 * every line that appending `\n` to its string costs (the line is most of a record's
 * allocation, and the garbage collector was a fifth of a JSONL sync's CPU).
 */
export function encodeJsonLines(items: Iterable<unknown>): Buffer {
  return encodeLines(items, JSON.stringify, LF);
}

const LF = 0x0a;
const NO_LINE_END = -1;

/**
 * The buffer lines are encoded into, reused from call to call; each call returns a copy
 * of exactly its bytes. A fresh, doubling buffer per batch allocated about three times
 * the batch's size outside V8's heap (64 KiB + 128 KiB + … for 0.3 MiB), and that
 * memory counts towards V8's collections too.
 */
let linesScratch: Buffer | undefined;
/** Set while a call uses {@link linesScratch}: a `line` function that encodes lines itself gets a buffer of its own. */
let linesScratchBusy = false;

function encodeLines<T>(items: Iterable<T>, line: (item: T) => string, lineEnd: number): Buffer {
  const shared = !linesScratchBusy;
  let buffer = (shared ? linesScratch : undefined) ?? Buffer.allocUnsafe(INITIAL_LINES_BYTES);
  let length = 0;
  if (shared) linesScratchBusy = true;
  try {
    for (const item of items) {
      const text = line(item);
      // A UTF-16 code unit never takes more than 3 UTF-8 bytes; one more for the line end.
      const needed = length + text.length * 3 + 1;
      if (needed > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      length += buffer.write(text, length, 'utf8');
      if (lineEnd !== NO_LINE_END) buffer[length++] = lineEnd;
    }
  } finally {
    if (shared) {
      linesScratchBusy = false;
      if (buffer.length <= MAX_KEPT_LINES_BYTES) linesScratch = buffer;
    }
  }
  const bytes = Buffer.allocUnsafe(length);
  buffer.copy(bytes, 0, 0, length);
  return bytes;
}
