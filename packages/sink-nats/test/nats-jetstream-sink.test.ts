import { createServer } from 'node:net';
import { createKefu, isKefuError, type KefuRecord, type RecordBatch } from '@kefu/core';
import { integrationServer, makeRecords, startTcpProxy } from '@kefu/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsJetStreamSink, plugin } from '../src/index.js';
import { deleteStream, readStream, uniqueStreamName, uniqueSubjectPrefix } from './jetstream-stream.js';

const nats = await integrationServer('nats');

function batchOf(records: KefuRecord[], position = 1): RecordBatch {
  const first = records[0] as KefuRecord;
  const stream = { provider: first.provider, account: first.account };
  return {
    stream,
    checkpointKey: `test/${first.provider}/${first.account}`,
    records,
    checkpoint: { ...stream, position, skip: 0 },
  };
}

/** A TCP port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!nats.available)(`NatsJetStreamSink on ${nats.url}`, () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const openSink = (label: string, extra: Partial<ConstructorParameters<typeof NatsJetStreamSink>[0]> = {}) => {
    const stream = uniqueStreamName(label);
    const subjectPrefix = extra.subjectPrefix ?? uniqueSubjectPrefix();
    const sink = new NatsJetStreamSink({ servers: nats.url, stream, ...extra, subjectPrefix });
    cleanup.push(
      () => deleteStream(nats.url, stream),
      () => sink.close(),
    );
    return { sink, stream, subjectPrefix };
  };

  it('given a batch, when write resolves, then every record is stored once under its subject, id and headers', async () => {
    const { sink, stream, subjectPrefix } = openSink('publish');
    const records = makeRecords(20, { provider: 'wechat-mp', account: 'wx.app 1' }).map((record, index) => ({
      ...record,
      kind: index % 2 === 0 ? ('text' as const) : ('image' as const),
    }));
    await sink.write(batchOf(records));
    const stored = await readStream(nats.url, stream);
    expect(stored).toHaveLength(20);
    const byId = new Map(records.map((record) => [record.id, record]));
    expect(new Set(stored.map((message) => message.record.id)).size).toBe(20);
    for (const message of stored) {
      const record = byId.get(message.record.id) as KefuRecord;
      expect(message.record).toEqual(record);
      expect(message.subject).toBe(`${subjectPrefix}.wechat-mp.wx_app_1.${record.kind}`);
      expect(message.msgId).toBe(`wechat-mp:wx.app 1:${record.id}`);
      expect(message.headers).toEqual({
        'Kefu-Record-Id': record.id,
        'Kefu-Provider': 'wechat-mp',
        'Kefu-Account': 'wx.app 1',
      });
    }
    expect(sink.counters).toEqual({ stored: 20, duplicates: 0, batches: 1 });
  });

  it('given a batch already published, when it is replayed, then the server keeps no second copy', async () => {
    const { sink, stream, subjectPrefix } = openSink('replay');
    const records = makeRecords(30, { provider: 'youmi', account: '1001' });
    await sink.write(batchOf(records));
    await sink.write(batchOf(records));
    // A new sink (another worker) replaying the same records is deduplicated too.
    const other = new NatsJetStreamSink({ servers: nats.url, stream, subjectPrefix });
    cleanup.push(() => other.close());
    await other.write(batchOf(records.slice(10)));
    expect(await readStream(nats.url, stream)).toHaveLength(30);
    expect(sink.counters).toEqual({ stored: 30, duplicates: 30, batches: 2 });
    expect(other.counters.duplicates).toBe(20);
  });

  it('given the README consumer recipe, when a durable consumer reads the stream, then it gets each record once and resumes after acks', async () => {
    const { sink, stream, subjectPrefix } = openSink('consumer', { maxInFlight: 4 });
    const records = makeRecords(25, { provider: 'wechat-mp', account: 'wx1' });
    await sink.write(batchOf(records.slice(0, 15)));
    await sink.write(batchOf(records.slice(10), 2)); // overlaps: a replay of r10–r14

    // The recipe from the README, verbatim apart from the names.
    const connection = await connect({ servers: nats.url });
    cleanup.push(() => connection.close());
    const manager = await jetstreamManager(connection);
    await manager.consumers.add(stream, {
      durable_name: 'warehouse',
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${subjectPrefix}.wechat-mp.>`,
    });
    const consumer = await jetstream(connection).consumers.get(stream, 'warehouse');
    const received: KefuRecord[] = [];
    const readUpTo = async (count: number) => {
      const messages = await consumer.fetch({ max_messages: count, expires: 2000 });
      for await (const message of messages) {
        received.push(message.json<KefuRecord>());
        message.ack();
      }
    };
    await readUpTo(10);
    await readUpTo(100);
    expect(received.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    const info = await manager.consumers.info(stream, 'warehouse');
    expect(info.num_pending).toBe(0);
  });

  it('given a stream with duplicateWindowSeconds, when the sink creates it, then the window and subjects are as configured', async () => {
    const subjectPrefix = `acme.${uniqueSubjectPrefix()}`;
    const { sink, stream } = openSink('window', { duplicateWindowSeconds: 90, subjectPrefix });
    await sink.check();
    const connection = await connect({ servers: nats.url });
    cleanup.push(() => connection.close());
    const info = await (await jetstreamManager(connection)).streams.info(stream);
    expect(info.config.duplicate_window).toBe(90 * 1e9);
    expect(info.config.subjects).toEqual([`${subjectPrefix}.>`]);
  });

  it('given createStream false and no stream, when writing, then a typed setup error says how to create it', async () => {
    const { sink, subjectPrefix } = openSink('missing', { createStream: false });
    const error = await sink.write(batchOf(makeRecords(1))).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('SINK_NATS_STREAM_SETUP_FAILED');
    expect((error as Error).message).toContain(`${subjectPrefix}.>`);
  });

  it('given the network to the server drops mid-run, when writing, then it rejects with a retryable error and a later retry stores each record once', async () => {
    const server = new URL(nats.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 4222) });
    cleanup.push(() => proxy.close());
    const stream = uniqueStreamName('outage');
    const subjectPrefix = uniqueSubjectPrefix();
    const sink = new NatsJetStreamSink({ servers: proxy.url, stream, subjectPrefix, publishTimeoutMs: 500 });
    cleanup.push(
      () => deleteStream(nats.url, stream),
      () => sink.close(),
    );
    const records = makeRecords(40, { provider: 'wechat-mp', account: 'wx-outage' });
    await sink.write(batchOf(records.slice(0, 20)));

    await proxy.down();
    const error = await sink.write(batchOf(records.slice(20), 2)).catch((e: unknown) => e);
    expect(isKefuError(error) && error.retryable).toBe(true);
    expect(isKefuError(error) && ['SINK_NATS_TIMEOUT', 'SINK_NATS_UNREACHABLE'].includes(error.code)).toBe(true);

    // What the sync pipeline does: retry the same batch with back-off until the server is back.
    await proxy.up();
    let attempts = 0;
    while (true) {
      attempts += 1;
      const retry = await sink.write(batchOf(records.slice(20), 2)).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (retry === undefined) break;
      expect(isKefuError(retry) && retry.retryable).toBe(true);
      if (attempts >= 20) throw retry;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const stored = await readStream(nats.url, stream);
    // Publishes within a batch run concurrently: compare as sets (sorted), each id exactly once.
    expect(stored.map((message) => message.record.id).sort()).toEqual(records.map((record) => record.id).sort());
  });

  it('given the sink as a plugin, when a runtime composes it, then it is bound under the instance id', async () => {
    const stream = uniqueStreamName('plugin');
    cleanup.push(() => deleteStream(nats.url, stream));
    const kefu = await createKefu({
      sinks: [
        { use: plugin, id: 'broker', config: { servers: nats.url, stream, subjectPrefix: uniqueSubjectPrefix() } },
      ],
      logger: { level: 'error' },
    });
    cleanup.push(() => kefu.close());
    const sink = kefu.sink('broker');
    expect(sink).toBeInstanceOf(NatsJetStreamSink);
    await sink.write(batchOf(makeRecords(3)));
    expect(await readStream(nats.url, stream)).toHaveLength(3);
  });
});

describe('NatsJetStreamSink without a server', () => {
  it('given a closed port, when writing, then it rejects with a retryable SINK_NATS_UNREACHABLE', async () => {
    const port = await closedPort();
    const sink = new NatsJetStreamSink({
      servers: `nats://127.0.0.1:${port}`,
      stream: 'NOWHERE',
      connectTimeoutMs: 1000,
    });
    try {
      const error = await sink.write(batchOf(makeRecords(2))).catch((e: unknown) => e);
      expect(isKefuError(error) && error.code).toBe('SINK_NATS_UNREACHABLE');
      expect(isKefuError(error) && error.retryable).toBe(true);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    } finally {
      await sink.close();
    }
  });

  it('given a closed sink, when writing, then it rejects with KEFU_SINK_CLOSED', async () => {
    const sink = new NatsJetStreamSink({ stream: 'NEVER_OPENED' });
    await sink.close();
    await sink.close();
    const error = await sink.write(batchOf(makeRecords(1))).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_SINK_CLOSED');
  });

  it.each([
    [{ stream: 'has.dot' }, 'stream'],
    [{ subjectPrefix: 'kefu.>' }, 'subjectPrefix'],
    [{ duplicateWindowSeconds: 0 }, 'duplicateWindowSeconds'],
    [{ servers: [] }, 'servers'],
    [{ credentials: { password: 'x' } }, 'credentials'],
  ])('given bad config %j, when constructing, then SINK_NATS_CONFIG_INVALID names %s', (config, field) => {
    let caught: unknown;
    try {
      new NatsJetStreamSink(config as never);
    } catch (error) {
      caught = error;
    }
    expect(isKefuError(caught) && caught.code).toBe('SINK_NATS_CONFIG_INVALID');
    expect((caught as Error).message).toContain(field);
  });
});
