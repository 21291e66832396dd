import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKefu, silentLogger } from '@kefu/core';
import { makeRecords, scriptedProviderPlugin } from '@kefu/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatabaseSink, plugin } from '../src/index.js';

const records = makeRecords(230, { provider: 'scripted', account: 'acc-1' });
/** A provider plugin over a fixed list of records. */
const scriptedProvider = scriptedProviderPlugin({ accounts: { 'acc-1': records }, pageSize: 25 });

const dir = mkdtempSync(join(tmpdir(), 'kefu-sink-db-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DatabaseSink in the kefu runtime', () => {
  it('given `checkpoints: { use: sink }`, when a sync runs twice, then the records are stored once and the second run reads nothing new', async () => {
    const options = {
      providers: [{ use: scriptedProvider, id: 'scripted' }],
      sinks: [{ use: plugin, id: 'warehouse', config: { url: 'kefu.db' } }],
      checkpoints: { use: 'sink' as const, sink: 'warehouse' },
      sync: { job: 'nightly', batchSize: 40 },
      logger: silentLogger,
      baseDir: dir,
    };
    const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') };

    const first = await createKefu(options);
    try {
      expect(first.checkpointStore).toBe(first.sink('warehouse'));
      const summary = await first.sync(range).done;
      expect(summary.records).toBe(230);
    } finally {
      await first.close();
    }

    const second = await createKefu(options);
    try {
      const summary = await second.sync(range).done;
      expect(summary.records).toBe(0);
      const sink = second.sink('warehouse') as DatabaseSink;
      expect(sink.target).toBe(`sqlite://${join(dir, 'kefu.db')}`);
      expect(await sink.countRecords()).toBe(230);
      const stored = await sink.queryRecords({ limit: 1000 });
      expect(stored.map((record) => record.id)).toEqual(records.map((record) => record.id));
      expect(await sink.load('nightly/scripted/acc-1')).toMatchObject({ provider: 'scripted', account: 'acc-1' });
    } finally {
      await second.close();
    }
  });
});
