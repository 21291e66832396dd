import { BrokerRecordSink } from './broker-record-sink.js';
import { JetStreamRecordPublisher } from './jetstream-publisher.js';
import { type NatsSinkConfig, type NatsSinkConfigInput, parseNatsSinkConfig } from './sink-nats-config.js';

/**
 * Publishes records to NATS JetStream: subject `<subjectPrefix>.<provider>.<account>.<kind>`,
 * `Nats-Msg-Id` = `<provider>:<account>:<record id>`, payload = the record JSON. `write`
 * resolves after every PubAck (duplicates included). At-least-once towards the server;
 * consumers see each record once as long as replays arrive within the duplicate window.
 *
 * @example
 * ```ts
 * const sink = new NatsJetStreamSink({ servers: 'nats://127.0.0.1:4222', stream: 'KEFU_RECORDS' });
 * await sink.write(batch);
 * await sink.close();
 * ```
 */
export class NatsJetStreamSink extends BrokerRecordSink {
  /** The validated configuration. */
  readonly config: NatsSinkConfig;

  /** Validates `options` (SINK_NATS_CONFIG_INVALID names a bad field); connects on first write. */
  constructor(options: NatsSinkConfigInput) {
    const config = parseNatsSinkConfig(options);
    super({
      id: config.id,
      publisher: new JetStreamRecordPublisher(config),
      subjectPrefix: config.subjectPrefix,
      maxInFlight: config.maxInFlight,
    });
    this.config = config;
  }
}
