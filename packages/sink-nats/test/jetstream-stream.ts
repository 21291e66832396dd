import { randomUUID } from 'node:crypto';
import type { KefuRecord } from '@kefu/core';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** A stored message as the tests inspect it. */
export interface StoredRecordMessage {
  subject: string;
  msgId: string | undefined;
  headers: Record<string, string | undefined>;
  record: KefuRecord;
}

/** A stream name no other test run uses (JetStream names: letters, digits, `_`, `-`). */
export function uniqueStreamName(label: string): string {
  return `KEFU_TEST_${label}_${randomUUID().slice(0, 8)}`.toUpperCase();
}

/**
 * A subject prefix no other test run uses: JetStream refuses two streams with overlapping
 * subjects, so parallel test files (and other packages' tests) must not all use `kefu.>`.
 */
export function uniqueSubjectPrefix(): string {
  return `kefu_test_${randomUUID().slice(0, 8)}`;
}

/** Reads every message of `stream` through a fresh connection (the durable view, not the sink's). */
export async function readStream(servers: string, stream: string): Promise<StoredRecordMessage[]> {
  const connection = await connect({ servers });
  try {
    const manager = await jetstreamManager(connection);
    const info = await manager.streams.info(stream);
    const out: StoredRecordMessage[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message: StoredMsg | null = await manager.streams.getMessage(stream, { seq });
      if (!message) continue;
      out.push({
        subject: message.subject,
        msgId: message.header.get('Nats-Msg-Id') || undefined,
        headers: {
          'Kefu-Record-Id': message.header.get('Kefu-Record-Id') || undefined,
          'Kefu-Provider': message.header.get('Kefu-Provider') || undefined,
          'Kefu-Account': message.header.get('Kefu-Account') || undefined,
        },
        record: message.json<KefuRecord>(),
      });
    }
    return out;
  } finally {
    await connection.close();
  }
}

/** Deletes `stream` if it exists. */
export async function deleteStream(servers: string, stream: string): Promise<void> {
  const connection = await connect({ servers });
  try {
    const manager = await jetstreamManager(connection);
    await manager.streams.delete(stream).catch(() => false);
  } finally {
    await connection.close();
  }
}

/** Changes the stream's message limit (`-1` = unlimited); with discard=new a full stream refuses publishes. */
export async function limitStream(servers: string, stream: string, maxMessages: number): Promise<void> {
  const connection = await connect({ servers });
  try {
    const manager = await jetstreamManager(connection);
    const info = await manager.streams.info(stream);
    await manager.streams.update(stream, { ...info.config, max_msgs: maxMessages, discard: 'new' as never });
  } finally {
    await connection.close();
  }
}
