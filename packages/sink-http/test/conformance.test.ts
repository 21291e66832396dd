import { describeSink } from '@kefu/testkit';
import { HttpSink } from '../src/index.js';
import { startWebhookReceiver } from './webhook-receiver.js';

const secret = 'conformance-secret-0123456789';

for (const format of ['json', 'ndjson'] as const) {
  describeSink(`http sink (${format})`, async () => {
    const receiver = await startWebhookReceiver({ secret });
    const sink = new HttpSink({
      url: receiver.url,
      secret,
      format,
      onPermanentFailure: 'fail',
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    });
    return {
      sink,
      // Stored batches, duplicates included: the receiver saw them all.
      readBack: async () => receiver.stored.flatMap((batch) => batch.records),
      breakSink: async () => {
        receiver.down = true;
      },
      repairSink: async () => {
        receiver.down = false;
      },
      teardown: () => receiver.close(),
    };
  });
}
