import { describeSink, integrationServer } from '@kefu/testkit';
import { describe } from 'vitest';
import { NatsJetStreamSink } from '../src/index.js';
import { deleteStream, limitStream, readStream, uniqueStreamName, uniqueSubjectPrefix } from './jetstream-stream.js';

const nats = await integrationServer('nats');

describe.skipIf(!nats.available)(`NATS at ${nats.url} (${nats.reason ?? 'available'})`, () => {
  describeSink('nats jetstream', async () => {
    const stream = uniqueStreamName('conformance');
    const sink = new NatsJetStreamSink({ servers: nats.url, stream, subjectPrefix: uniqueSubjectPrefix() });
    return {
      sink,
      // Every stored message: the server's deduplication decides what a replay leaves.
      readBack: async () => (await readStream(nats.url, stream).catch(() => [])).map((message) => message.record),
      // A real server-side refusal: the stream is full and discards new messages.
      breakSink: async () => {
        const stored = await readStream(nats.url, stream);
        await limitStream(nats.url, stream, stored.length);
      },
      repairSink: () => limitStream(nats.url, stream, -1),
      teardown: () => deleteStream(nats.url, stream),
    };
  });
});
