import {
  encodeJsonLines,
  encodeUtf8Lines,
  isRecordSink,
  isTransactionalSink,
  MemoryCheckpointStore,
  type RecordSink,
  transactionalCheckpointSink,
} from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('encodeUtf8Lines', () => {
  it('gives the bytes of the joined lines, whatever the text and the total size', () => {
    // Full-Unicode strings, lone surrogates included; long lines force the buffer to grow.
    const long = fc
      .string({ unit: 'grapheme', minLength: 1 })
      .map((text) => text.repeat(Math.ceil(20_000 / text.length)));
    const line = fc.oneof(fc.string({ unit: 'binary' }), long);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const encoded = encodeUtf8Lines(lines, (text) => `${text}\n`);
        expect(encoded.equals(Buffer.from(lines.map((text) => `${text}\n`).join(''), 'utf8'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('grows past its first buffer with multi-byte text', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `${i}：你好，客服 🙂\n`);
    const encoded = encodeUtf8Lines(lines, (text) => text);
    expect(encoded.length).toBeGreaterThan(64 * 1024);
    expect(encoded.toString('utf8')).toBe(lines.join(''));
  });

  it('gives an empty buffer for no items', () => {
    expect(encodeUtf8Lines([], String).length).toBe(0);
  });
});

describe('encodeJsonLines', () => {
  it('gives the bytes of JSON.stringify of each item and an LF, whatever the values', () => {
    // Any JSON value (lone surrogates in strings included); long strings force the buffer to grow.
    const long = fc
      .string({ unit: 'grapheme', minLength: 1 })
      .map((text) => text.repeat(Math.ceil(30_000 / text.length)));
    const item = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(fc.string({ unit: 'binary' }), long)),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), (items) => {
        const encoded = encodeJsonLines(items);
        const expected = encodeUtf8Lines(items, (value) => `${JSON.stringify(value)}\n`);
        expect(encoded.equals(expected)).toBe(true);
        expect(
          encoded
            .toString('utf8')
            .split('\n')
            .slice(0, -1)
            .map((line) => JSON.parse(line)),
        ).toEqual(JSON.parse(JSON.stringify(items)));
      }),
      { numRuns: 200 },
    );
  });

  it('gives an empty buffer for no items', () => {
    expect(encodeJsonLines([]).length).toBe(0);
  });
});

describe('TransactionalSink', () => {
  const plain: RecordSink = { id: 'plain', guarantee: 'at-least-once', write: async () => {}, close: async () => {} };
  const store = new MemoryCheckpointStore();
  const transactional = {
    ...plain,
    id: 'db',
    guarantee: 'exactly-once' as const,
    load: (key: string) => store.load(key),
    save: store.save.bind(store),
  };

  it('is recognised by its shape: an exactly-once sink with load and save', () => {
    expect(isRecordSink(plain)).toBe(true);
    expect(isRecordSink({ id: 'x' })).toBe(false);
    expect(isTransactionalSink(transactional)).toBe(true);
    expect(isTransactionalSink({ ...transactional, guarantee: 'at-least-once' })).toBe(false);
    expect(isTransactionalSink(plain)).toBe(false);
    expect(isTransactionalSink(store)).toBe(false);
    expect(isTransactionalSink(null)).toBe(false);
  });

  it('is the checkpoint sink only when it is both one of the sinks and the checkpoint store', () => {
    expect(transactionalCheckpointSink([plain, transactional], transactional)).toBe(transactional);
    expect(transactionalCheckpointSink([plain], transactional)).toBeUndefined();
    expect(transactionalCheckpointSink([plain, transactional], store)).toBeUndefined();
  });
});
