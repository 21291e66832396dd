import { parseJsonBytes } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** What parseJsonBytes must equal: JSON.parse of the whole text, or its error. */
function whole(bytes: Buffer): unknown {
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    return { throws: (error as Error).name };
  }
}

function piecewise(bytes: Buffer, pieceBytes?: number): unknown {
  try {
    return { value: parseJsonBytes(bytes, pieceBytes === undefined ? {} : { pieceBytes }) };
  } catch (error) {
    return { throws: (error as Error).name };
  }
}

/** Texts that make cutting hard: separators, quotes, escapes, brackets, non-BMP characters. */
const trickyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('},{', '"},{"', '\\', '\\"', '[1,2]', '{"a":[{}]}', '😊中文', '\u2028', ' , '),
);

/** A getmsglist-like record, sometimes with a nested array of objects (cuts at `},{` inside it). */
const record = fc.record({
  openid: fc.string({ maxLength: 28 }),
  opercode: fc.integer({ min: 1000, max: 2003 }),
  text: trickyText,
  time: fc.integer({ min: 0, max: 2 ** 31 }),
  nested: fc.option(fc.array(fc.record({ a: trickyText }), { maxLength: 3 }), { nil: undefined }),
});

const page = fc.record({
  errcode: fc.option(fc.constant(0), { nil: undefined }),
  recordlist: fc.array(record, { maxLength: 40 }),
  number: fc.nat(),
  msgid: fc.nat(),
  more: fc.option(fc.array(record, { maxLength: 3 }), { nil: undefined }),
});

/** Compact, pretty or tab-indented: whitespace wherever JSON allows it. */
const layout = fc.constantFrom<(value: unknown) => string>(
  (value) => JSON.stringify(value),
  (value) => JSON.stringify(value, null, 2),
  (value) => JSON.stringify(value, null, '\t'),
  (value) => ` \r\n${JSON.stringify(value)}\n`,
);

describe('parseJsonBytes', () => {
  it('equals JSON.parse for any JSON value, cut into pieces of any size', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), layout, fc.integer({ min: 1, max: 64 }), (value, write, piece) => {
        const bytes = Buffer.from(write(value));
        expect(piecewise(bytes, piece)).toStrictEqual(whole(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals JSON.parse for record pages whose texts hold separators, quotes and escapes', () => {
    fc.assert(
      fc.property(page, layout, fc.integer({ min: 8, max: 600 }), (value, write, piece) => {
        const bytes = Buffer.from(write(value));
        expect(piecewise(bytes, piece)).toStrictEqual(whole(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('throws what JSON.parse throws, or gives its value, for any byte changed, dropped or added', () => {
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'drop', 'insert'),
      byte: fc.constantFrom(...'{}[],:"\\ 0e-tn\u0001'.split('').map((c) => c.charCodeAt(0)), 0xe4, 0x80),
    });
    fc.assert(
      fc.property(page, edit, fc.integer({ min: 8, max: 300 }), (value, { at, kind, byte }, piece) => {
        const original = Buffer.from(JSON.stringify(value));
        const index = at % original.length;
        const changed =
          kind === 'replace'
            ? Buffer.concat([original.subarray(0, index), Buffer.of(byte), original.subarray(index + 1)])
            : kind === 'drop'
              ? Buffer.concat([original.subarray(0, index), original.subarray(index + 1)])
              : Buffer.concat([original.subarray(0, index), Buffer.of(byte), original.subarray(index)]);
        expect(piecewise(changed, piece)).toStrictEqual(whole(changed));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps "__proto__" an own property and the last of duplicate keys, as JSON.parse does', () => {
    const bytes = Buffer.from(`{"__proto__":{"polluted":true},"a":1,"list":[${'{"x":1},'.repeat(50)}{}],"a":2}`);
    const parsed = parseJsonBytes(bytes, { pieceBytes: 16 }) as Record<string, unknown>;
    expect(parsed).toStrictEqual(JSON.parse(bytes.toString()));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a', 'list']);
    expect(parsed.a).toBe(2);
  });

  it('parses deep nesting whole (beyond 16 levels), as JSON.parse does', () => {
    const depth = 20_000;
    const bytes = Buffer.from(`${'{"a":'.repeat(depth)}[${'{"x":1},'.repeat(10)}{"x":2}]${'}'.repeat(depth)}`);
    let value = parseJsonBytes(bytes, { pieceBytes: 16 });
    // Walked by a loop: a recursive comparison would overflow the stack itself.
    for (let level = 0; level < depth; level++) value = (value as { a: unknown }).a;
    expect(value).toStrictEqual([...Array.from({ length: 10 }, () => ({ x: 1 })), { x: 2 }]);
  });

  it('parses a 2 000-record page with the default piece size, values and order intact', () => {
    const list = Array.from({ length: 2000 }, (_, i) => ({
      openid: `o${i}`,
      opercode: 2002,
      text: i % 7 === 0 ? '},{"text":"请问有什么可以帮您？😊"' : `消息 ${i}`,
      time: 1767542402 + i,
      worker: 'kf1003@kefuemu1',
    }));
    const bytes = Buffer.from(JSON.stringify({ recordlist: list, number: 2000, msgid: 4001 }));
    expect(bytes.length).toBeGreaterThan(100_000);
    expect(parseJsonBytes(bytes)).toStrictEqual(JSON.parse(bytes.toString()));
  });
});
