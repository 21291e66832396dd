/**
 * The broker seam: what a broker sink needs from a message broker, and nothing more.
 * {@link BrokerRecordSink} turns record batches into {@link BrokerMessage}s and hands
 * them to a publisher; the NATS JetStream publisher implements it here, and a Kafka one
 * (kafkajs, `idempotent: true`, key = message id) would be one more small class.
 */

/** One message to publish: where to, the deduplication id, the body and headers. */
export interface BrokerMessage {
  /** NATS subject or Kafka topic-qualified routing key (`kefu.wechat-mp.wx123.text`). */
  subject: string;
  /** Stable per record (`<provider>:<account>:<record id>`): the broker's deduplication id or message key. */
  id: string;
  /** The record as UTF-8 JSON. */
  payload: Uint8Array;
  /** Message headers (record id, provider, account). */
  headers: Readonly<Record<string, string>>;
}

/** What the broker answered once it durably stored (or had already stored) a message. */
export interface BrokerAck {
  /** True when the broker recognised the id as already stored and kept no second copy. */
  duplicate: boolean;
  /** Broker position of the stored message (JetStream stream sequence, Kafka offset), when known. */
  sequence?: number;
}

/**
 * Publishes messages to a broker. `publish` resolves only after the broker durably
 * acknowledged the message (a duplicate ack counts as stored) and rejects with a
 * KefuError (retryable for transient faults) otherwise.
 */
export interface RecordPublisher {
  /** Connects and prepares the destination (stream, topic); idempotent. */
  open(): Promise<void>;
  /** Publishes one message and waits for the broker's acknowledgement. */
  publish(message: BrokerMessage): Promise<BrokerAck>;
  /** Releases the connection; idempotent. */
  close(): Promise<void>;
}
