import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlatformJson } from '../src/platform-json.js';

describe('parsePlatformJson', () => {
  it('accepts raw control characters inside strings', () => {
    expect(parsePlatformJson('{"text":"line1\nline2\ttab\u0001"}')).toEqual({ text: 'line1\nline2\ttab\u0001' });
  });

  it('keeps integers beyond 2^53 as exact strings and leaves safe numbers alone', () => {
    expect(
      parsePlatformJson('{"msgid": 12345678901234567890, "n": -3, "f": 1.5e3, "s": "99999999999999999999"}'),
    ).toEqual({
      msgid: '12345678901234567890',
      n: -3,
      f: 1500,
      s: '99999999999999999999',
    });
  });

  it('keeps escaped quotes and backslashes intact', () => {
    expect(parsePlatformJson('{"a":"say \\"hi\\" \\\\ 123456789012345678901"}')).toEqual({
      a: 'say "hi" \\ 123456789012345678901',
    });
  });

  it('still rejects a truncated body', () => {
    expect(() => parsePlatformJson('{"recordlist":[{"openid":"x"')).toThrow(SyntaxError);
  });

  it('parses any valid JSON exactly like JSON.parse when numbers are safe', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!/\d{16,}/.test(text));
        expect(parsePlatformJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });
});
