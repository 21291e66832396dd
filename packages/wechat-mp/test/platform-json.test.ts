import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlatformJson, repairPlatformJson } from '../src/platform-json.js';

/** JSON text of a value whose bigints are written as integer literals (any size). */
function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** JSON values with integer literals of any size among them. */
const jsonWithIntegers = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), 10n ** 15n, 10n ** 16n),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
  ),
})).node;

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

  it('keeps a top-level integer beyond 2^53 exact too', () => {
    expect(parsePlatformJson('12345678901234567890')).toBe('12345678901234567890');
    expect(parsePlatformJson('[9007199254740993, 9007199254740991]')).toEqual(['9007199254740993', 9007199254740991]);
  });

  it('gives what always repairing first gives, for any JSON with integers of any size', () => {
    fc.assert(
      fc.property(jsonWithIntegers, (value) => {
        const text = jsonText(value);
        expect(parsePlatformJson(text)).toEqual(JSON.parse(repairPlatformJson(text)));
      }),
      { numRuns: 300 },
    );
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

  it('reads a large body from its bytes as from its text: raw control characters, long integers', () => {
    // Above the 32 KiB piece size bytes are parsed piecewise (parseJsonBytes): a body that
    // needs the repair must still reach it, whichever piece holds the fault.
    const page = (text417: string, tail = '') =>
      `{"recordlist":[${Array.from(
        { length: 600 },
        (_, i) =>
          `{"openid":"o${i}","opercode":2002,"text":${i === 417 ? text417 : `"消息${i}"`},"time":${1767542402 + i},"worker":"kf1@x"}`,
      ).join(',')}],"number":600${tail}}`;
    const outcome = (parse: () => unknown) => {
      try {
        return parse();
      } catch (error) {
        return (error as Error).name;
      }
    };
    const bodies = [
      page('"消息"'),
      page('"消\t息"'), // a raw TAB inside a string: invalid JSON, repaired
      page('"消息"', ',"msgid":9007199254740993'),
      page('"消息"', ',"ids":[123456789012345678901]'),
      page('"消息'), // truncated string: not JSON even after repair
    ];
    for (const text of bodies) {
      expect(Buffer.byteLength(text)).toBeGreaterThan(32 * 1024);
      expect(outcome(() => parsePlatformJson(Buffer.from(text)))).toEqual(outcome(() => parsePlatformJson(text)));
    }
    const repaired = parsePlatformJson(Buffer.from(bodies[1] as string)) as { recordlist: { text: string }[] };
    expect(repaired.recordlist[417]?.text).toBe('消\t息');
    expect((parsePlatformJson(Buffer.from(bodies[2] as string)) as { msgid: unknown }).msgid).toBe('9007199254740993');
    expect(outcome(() => parsePlatformJson(Buffer.from(bodies[4] as string)))).toBe('SyntaxError');
  });
});
