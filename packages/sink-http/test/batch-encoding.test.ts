import type { KefuRecord, RecordBatch } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { encodeBatchBody } from '../src/index.js';

function batchOf(count: number): RecordBatch {
  const records: KefuRecord[] = Array.from({ length: count }, (_, i) => ({
    id: `r${i}`,
    provider: 'wechat-mp',
    account: 'wx1',
    customer: 'o1',
    direction: 'inbound',
    kind: 'text',
    text: i % 2 ? '你好 🙂 "quoted"\n' : 'hello',
    at: '2026-11-01T00:00:00.000Z',
    raw: { text: '你好', n: i },
  }));
  return {
    stream: { provider: 'wechat-mp', account: 'wx1' },
    checkpointKey: 'k',
    records,
    checkpoint: { provider: 'wechat-mp', account: 'wx1', position: count, skip: 0 },
  };
}

describe('encodeBatchBody', () => {
  it.each([0, 1, 2, 3_000])('writes %i records as the bytes of JSON.stringify and of JSON lines', (count) => {
    const batch = batchOf(count);
    expect(encodeBatchBody(batch, 'json').toString('utf8')).toBe(JSON.stringify(batch.records));
    const lines = batch.records.map((record) => `${JSON.stringify(record)}\n`).join('');
    expect(encodeBatchBody(batch, 'ndjson').toString('utf8')).toBe(lines);
  });
});
