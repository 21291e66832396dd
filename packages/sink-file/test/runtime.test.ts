import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKefu } from '@kefu/core';
import { makeRecords, scriptedProviderPlugin } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAllRecords } from './read-output.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const records = makeRecords(230, { provider: 'scripted', account: 'shop-1', start: new Date('2026-01-01T20:00:00Z') });

/** A provider plugin over a fixed list of records. */
const scriptedProvider = scriptedProviderPlugin({ accounts: { 'shop-1': records }, pageSize: 17 });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-runtime-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the file sink in a kefu runtime', () => {
  it('given the plugin loaded by path with a config block, when a sync runs, then every record is archived and the checkpoint is stored', async () => {
    const kefu = await createKefu({
      baseDir: packageDir,
      providers: [{ use: scriptedProvider, id: 'shop' }],
      sinks: [{ use: './src/index.ts', id: 'archive', config: { dir, format: 'csv', timeZone: 'Asia/Shanghai' } }],
      logger: { level: 'error' },
      sync: { batchSize: 50 },
    });
    try {
      expect(kefu.sink('archive').id).toBe('archive');
      const summary = await kefu.sync({ from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') })
        .done;
      expect(summary.records).toBe(230);
      const stored = await readAllRecords(dir);
      expect(new Set(stored.map((r) => r.id))).toEqual(new Set(records.map((r) => r.id)));
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
