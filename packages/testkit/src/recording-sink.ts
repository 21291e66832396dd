import type { KefuRecord, RecordBatch, RecordSink } from '@kefu/core';

/** A sink that keeps every record it accepted, in order (at-least-once: a replay appends again). */
export function recordingSink(id = 'recording'): RecordSink & { readonly records: KefuRecord[] } {
  const records: KefuRecord[] = [];
  return {
    id,
    guarantee: 'at-least-once',
    records,
    async write(batch: RecordBatch) {
      records.push(...batch.records);
    },
    async close() {},
  };
}
