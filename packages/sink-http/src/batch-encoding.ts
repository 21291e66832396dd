import { createHash } from 'node:crypto';
import { encodeUtf8Lines, type RecordBatch } from '@kefu/core';

/** JSON with object keys sorted, so equal values always hash equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The batch's idempotency key: SHA-256 (hex) of the checkpoint key, the first and last
 * record ids, the record count and the checkpoint's position. It depends only on what the
 * batch is, so it is identical across retries and when a restart replays the same batch
 * (the sync's `requested` range, which the next run may change, is left out).
 */
export function batchIdempotencyKey(batch: RecordBatch): string {
  const { requested: _requested, ...position } = batch.checkpoint;
  const identity = {
    checkpointKey: batch.checkpointKey,
    first: batch.records[0]?.id ?? null,
    last: batch.records.at(-1)?.id ?? null,
    count: batch.records.length,
    checkpoint: position,
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** Body formats of the webhook. */
export type BatchBodyFormat = 'json' | 'ndjson';

/** Content-Type of each body format. */
export const CONTENT_TYPES: Record<BatchBodyFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** Serializes a batch's records once: a JSON array, or one JSON object per line. */
export function encodeBatchBody(batch: RecordBatch, format: BatchBodyFormat): Buffer {
  const { records } = batch;
  if (format === 'ndjson') return encodeUtf8Lines(records, (record) => `${JSON.stringify(record)}\n`);
  if (records.length === 0) return Buffer.from('[]');
  // Element by element, the same bytes as JSON.stringify(records) (see encodeUtf8Lines for why).
  const last = records.length - 1;
  return encodeUtf8Lines(
    records.keys(),
    (index) => (index === 0 ? '[' : '') + JSON.stringify(records[index]) + (index === last ? ']' : ','),
  );
}
