import {
  isKefuError,
  type KefuError,
  type KefuRecord,
  type RecordBatch,
  type RecordSink,
  sinkClosedError,
} from '@kefu/core';
import { natsSinkError } from './errors.js';
import type { BrokerAck, BrokerMessage, RecordPublisher } from './record-publisher.js';
import { recordMessageId, recordSubject } from './subject-names.js';

/** Options of {@link BrokerRecordSink}. */
export interface BrokerRecordSinkOptions {
  /** Instance id (unique in one runtime). */
  id: string;
  /** The broker behind the sink. */
  publisher: RecordPublisher;
  /** First subject token(s): `<subjectPrefix>.<provider>.<account>.<kind>`. */
  subjectPrefix: string;
  /** Publishes awaiting their acknowledgement at once, per write. */
  maxInFlight: number;
}

/** What a broker sink has published since it was created. */
export interface BrokerSinkCounters {
  /** Messages the broker stored for the first time. */
  stored: number;
  /** Messages the broker recognised as already stored (replays inside the duplicate window). */
  duplicates: number;
  /** Batches acknowledged. */
  batches: number;
}

const encoder = new TextEncoder();

/** The broker message of one record: subject, dedup id, JSON payload, identifying headers. */
export function recordMessage(subjectPrefix: string, record: KefuRecord): BrokerMessage {
  return {
    subject: recordSubject(subjectPrefix, record),
    id: recordMessageId(record),
    payload: encoder.encode(JSON.stringify(record)),
    headers: { 'Kefu-Record-Id': record.id, 'Kefu-Provider': record.provider, 'Kefu-Account': record.account },
  };
}

/**
 * A sink that publishes every record of a batch as one broker message and acknowledges
 * the batch only after the broker acknowledged every message. Broker-agnostic: the
 * {@link RecordPublisher} decides where messages go (NATS JetStream here; Kafka would be
 * another publisher). Replays are published again and dropped by the broker's
 * deduplication, so consumers see each record once within the broker's window.
 */
export class BrokerRecordSink implements RecordSink {
  /** Instance id. */
  readonly id: string;
  /** Records are published again on retry; the broker's deduplication drops the copies. */
  readonly guarantee = 'at-least-once' as const;
  /** Counters since creation. */
  readonly counters: BrokerSinkCounters = { stored: 0, duplicates: 0, batches: 0 };
  readonly #publisher: RecordPublisher;
  readonly #subjectPrefix: string;
  readonly #maxInFlight: number;
  #closed: Promise<void> | undefined;

  /** A sink on `options.publisher`; connects on first use. */
  constructor(options: BrokerRecordSinkOptions) {
    this.id = options.id;
    this.#publisher = options.publisher;
    this.#subjectPrefix = options.subjectPrefix;
    this.#maxInFlight = options.maxInFlight;
  }

  /** Connects and prepares the destination without publishing (`kefu doctor`). */
  async check(): Promise<void> {
    this.#assertOpen();
    await this.#publisher.open();
  }

  /** Publishes the batch's records concurrently (bounded) and resolves after every acknowledgement. */
  async write(batch: RecordBatch): Promise<void> {
    this.#assertOpen();
    await this.#publisher.open();
    const messages = batch.records.map((record) => recordMessage(this.#subjectPrefix, record));
    const acks = await publishAll(this.#publisher, messages, this.#maxInFlight);
    for (const ack of acks) {
      if (ack.duplicate) this.counters.duplicates += 1;
      else this.counters.stored += 1;
    }
    this.counters.batches += 1;
  }

  /** Closes the publisher; idempotent. Writes already resolved are stored. */
  close(): Promise<void> {
    this.#closed ??= this.#publisher.close();
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw sinkClosedError(`sink ${this.id}`);
  }
}

/**
 * Publishes `messages` with at most `maxInFlight` unacknowledged at once. On the first
 * failure no new publish starts; the ones in flight settle before the error is thrown,
 * so nothing keeps running after write() rejected.
 */
async function publishAll(
  publisher: RecordPublisher,
  messages: readonly BrokerMessage[],
  maxInFlight: number,
): Promise<BrokerAck[]> {
  const acks: BrokerAck[] = new Array(messages.length);
  let next = 0;
  let failure: KefuError | undefined;
  const lane = async () => {
    while (failure === undefined && next < messages.length) {
      const index = next++;
      try {
        acks[index] = await publisher.publish(messages[index] as BrokerMessage);
      } catch (error) {
        failure ??= isKefuError(error)
          ? error
          : natsSinkError('SINK_NATS_UNREACHABLE', `publish failed: ${(error as Error).message}`, { cause: error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxInFlight, messages.length) }, lane));
  if (failure) throw failure;
  return acks;
}
