import { registerSecret, sinkClosedError } from '@kefu/core';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import { type NatsSinkErrorCode, natsSinkError } from './errors.js';
import type { BrokerAck, BrokerMessage, RecordPublisher } from './record-publisher.js';
import type { NatsSinkConfig } from './sink-nats-config.js';

/** A connection and its JetStream client, once open. */
interface OpenConnection {
  connection: NatsConnection;
  client: JetStreamClient;
}

/** NATS client error names that mean "try again later" versus "fix something". */
const ERROR_CODES_BY_NAME: Record<string, NatsSinkErrorCode> = {
  ConnectionError: 'SINK_NATS_UNREACHABLE',
  ClosedConnectionError: 'SINK_NATS_UNREACHABLE',
  DrainingConnectionError: 'SINK_NATS_UNREACHABLE',
  TimeoutError: 'SINK_NATS_TIMEOUT',
  NoRespondersError: 'SINK_NATS_NO_STREAM',
  JetStreamNotEnabled: 'SINK_NATS_NO_STREAM',
  AuthorizationError: 'SINK_NATS_REJECTED',
  PermissionViolationError: 'SINK_NATS_REJECTED',
  UserAuthenticationExpiredError: 'SINK_NATS_REJECTED',
  JetStreamApiError: 'SINK_NATS_REJECTED',
};

/** Maps a NATS client error to a typed error of this package (walking `cause`, where the client nests the real one). */
export function toNatsSinkError(error: unknown, doing: string) {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = ERROR_CODES_BY_NAME[current.name];
    if (code) {
      return natsSinkError(code, `${doing}: ${current.message}`, {
        cause: error,
        details: { natsError: current.name },
      });
    }
    current = current.cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  // Unknown client errors: most are transport trouble (socket errors), so let them retry.
  return natsSinkError('SINK_NATS_UNREACHABLE', `${doing}: ${message}`, { cause: error });
}

/**
 * Publishes to a NATS JetStream stream with `Nats-Msg-Id` set to the message id, so the
 * server drops replays within the stream's duplicate window (the PubAck then says
 * `duplicate: true`). Creates the stream when missing, with subjects `<subjectPrefix>.>`.
 */
export class JetStreamRecordPublisher implements RecordPublisher {
  readonly #config: NatsSinkConfig;
  #opening: Promise<OpenConnection> | undefined;
  #closed = false;

  /** A publisher for `config`; connects on {@link open}. */
  constructor(config: NatsSinkConfig) {
    this.#config = config;
    if (config.credentials?.pass) registerSecret(config.credentials.pass);
    if (config.credentials?.token) registerSecret(config.credentials.token);
  }

  /** Connects and makes sure the stream exists; reconnects after the connection closed for good. */
  async open(): Promise<void> {
    await this.#connection();
  }

  /** Publishes with `Nats-Msg-Id` and waits for the PubAck. */
  async publish(message: BrokerMessage): Promise<BrokerAck> {
    const { client } = await this.#connection();
    const messageHeaders = headers();
    for (const [name, value] of Object.entries(message.headers)) messageHeaders.set(name, value);
    try {
      const ack = await client.publish(message.subject, message.payload, {
        msgID: message.id,
        headers: messageHeaders,
        timeout: this.#config.publishTimeoutMs,
        expect: { streamName: this.#config.stream },
      });
      return { duplicate: ack.duplicate, sequence: ack.seq };
    } catch (error) {
      throw toNatsSinkError(error, `publishing ${message.id} to ${message.subject}`);
    }
  }

  /** Drains and closes the connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    const open = await opening?.catch(() => undefined);
    if (open && !open.connection.isClosed()) await open.connection.drain().catch(() => open.connection.close());
  }

  async #connection(): Promise<OpenConnection> {
    if (this.#closed) throw sinkClosedError('the NATS publisher');
    const current = this.#opening;
    if (current) {
      const open = await current;
      if (!open.connection.isClosed()) return open;
      if (this.#opening === current) this.#opening = undefined;
    }
    this.#opening ??= this.#connect().catch((error: unknown) => {
      // The next write tries again (the server may be back).
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #connect(): Promise<OpenConnection> {
    const { servers, connectTimeoutMs, credentials } = this.#config;
    let connection: NatsConnection;
    try {
      connection = await connect({
        servers,
        timeout: connectTimeoutMs,
        name: 'kefu-sink-nats',
        ...(credentials?.user ? { user: credentials.user } : {}),
        ...(credentials?.pass ? { pass: credentials.pass } : {}),
        ...(credentials?.token ? { token: credentials.token } : {}),
      });
    } catch (error) {
      throw toNatsSinkError(error, `connecting to ${[servers].flat().join(', ')}`);
    }
    try {
      await this.#ensureStream(await jetstreamManager(connection));
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    return { connection, client: jetstream(connection) };
  }

  async #ensureStream(manager: JetStreamManager): Promise<void> {
    const { stream, subjectPrefix, createStream, duplicateWindowSeconds } = this.#config;
    try {
      await manager.streams.info(stream);
      return;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'StreamNotFoundError')) {
        throw toNatsSinkError(error, `looking up stream ${stream}`);
      }
    }
    if (!createStream) {
      throw natsSinkError(
        'SINK_NATS_STREAM_SETUP_FAILED',
        `stream ${stream} does not exist and createStream is false; create it with subjects "${subjectPrefix}.>"`,
      );
    }
    try {
      await manager.streams.add({
        name: stream,
        subjects: [`${subjectPrefix}.>`],
        duplicate_window: nanos(duplicateWindowSeconds * 1000),
      });
    } catch (error) {
      // Another worker may have created it a moment ago: that is fine.
      const exists = await manager.streams.info(stream).then(
        () => true,
        () => false,
      );
      if (!exists) {
        throw natsSinkError(
          'SINK_NATS_STREAM_SETUP_FAILED',
          `creating stream ${stream} (subjects "${subjectPrefix}.>"): ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
}
