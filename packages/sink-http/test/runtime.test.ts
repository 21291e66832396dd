import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKefu } from '@kefu/core';
import { makeRecords, scriptedProviderPlugin } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const secret = 'runtime-webhook-secret-0123';
const records = makeRecords(300, { provider: 'scripted', account: 'shop-1' });

/** A provider plugin over a fixed list of records. */
const scriptedProvider = scriptedProviderPlugin({ accounts: { 'shop-1': records }, pageSize: 23 });

let dir: string;
let receiver: WebhookReceiver;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-http-runtime-'));
  receiver = await startWebhookReceiver({
    secret,
    seed: 9,
    shares: { 'server-error': 0.2, reset: 0.1, 'accept-then-reset': 0.1 },
  });
});
afterEach(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the http sink in a kefu runtime', () => {
  it('given the plugin loaded by path and a flaky receiver, when a sync runs, then every record arrives and the checkpoint is stored', async () => {
    const kefu = await createKefu({
      baseDir: packageDir,
      providers: [{ use: scriptedProvider, id: 'shop' }],
      sinks: [
        {
          use: './src/index.ts',
          id: 'crm',
          config: {
            url: receiver.url,
            secret,
            deadLetterPath: join(dir, 'dead.jsonl'),
            retry: { maxAttempts: 30, baseDelayMs: 1, maxDelayMs: 10 },
          },
        },
      ],
      logger: { level: 'error' },
      sync: { batchSize: 40 },
    });
    try {
      const summary = await kefu.sync({ from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') })
        .done;
      expect(summary.records).toBe(300);
      const delivered = new Set(receiver.stored.flatMap((batch) => batch.records.map((r) => r.id)));
      expect(delivered).toEqual(new Set(records.map((r) => r.id)));
      expect(await kefu.checkpointStore.load('default/shop/shop-1')).toMatchObject({
        provider: 'scripted',
        account: 'shop-1',
        requested: { complete: true },
      });
    } finally {
      await kefu.close();
    }
  });
});
