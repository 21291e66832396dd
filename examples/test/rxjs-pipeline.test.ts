import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSink } from '@kefu/sink-db';
import { describe, expect, it } from 'vitest';
import { main } from '../src/rxjs-pipeline.js';

describe('example: RxJS pipeline into two sinks', () => {
  it('writes the same filtered, enriched records to JSONL and SQLite and checkpoints the end', async () => {
    const result = await main();
    try {
      expect(result.read).toBeGreaterThan(200);
      expect(result.windows).toBeGreaterThan(1);
      const database = new DatabaseSink({ url: join(result.dir, 'records.db') });
      const count = await database.countRecords();
      const sample = (await database.queryRecords({ limit: 1 }))[0];
      await database.close();
      expect(count).toBe(result.written);
      expect(sample?.raw).toHaveProperty('enrichment.segment');
      const checkpoints = JSON.parse(await readFile(join(result.dir, 'checkpoints.json'), 'utf8')) as unknown;
      expect(JSON.stringify(checkpoints)).toContain('rxjs-example/wechat-mp/');
    } finally {
      await rm(result.dir, { recursive: true, force: true });
    }
  });
});
