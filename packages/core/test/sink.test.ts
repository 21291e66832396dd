import { encodeUtf8Lines } from '@kefu/core';
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
