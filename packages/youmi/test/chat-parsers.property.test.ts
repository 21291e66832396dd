import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBeijingTime } from '../src/beijing-time.js';
import { bracketValue, decodeReserved, normalizeChat } from '../src/chat-normalizer.js';

// Properties of the Youmi parsers that read what the platform writes into chat rows: the
// URL-encoded `ad_chatting_resvred`, bracketed contents (`imgs[…]`) and zone-less Beijing times.

/** Text with the characters that matter to URL decoding and JSON, Chinese and emoji included. */
const tricky = fc.string({
  unit: fc.constantFrom('a', 'Z', ' ', '+', '%', '&', '=', '{', '}', '[', ']', '中', '😀', '"', '\\', '\n'),
});
/** A JSON object as the platform might store it: nested values of every JSON type. */
const reservedObject = fc.dictionary(tricky, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });

/** What Java's URLEncoder writes: spaces as `+`. */
const formEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');

describe('decodeReserved (properties)', () => {
  it('given any JSON object, encoded either way or not at all, when decoded, then it is the object', () => {
    fc.assert(
      fc.property(reservedObject, (value) => {
        const json = JSON.stringify(value);
        const expected: unknown = JSON.parse(json);
        expect(decodeReserved(encodeURIComponent(json))).toEqual(expected);
        expect(decodeReserved(formEncode(json))).toEqual(expected);
        // Every URL encoder escapes `{`: a value starting with it is raw JSON (its `+` stay).
        expect(decodeReserved(json)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('given any JSON that is not an object, when decoded, then there is nothing', () => {
    const notObject = fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 1 })),
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(notObject, (value) => {
        expect(decodeReserved(encodeURIComponent(JSON.stringify(value)))).toBeUndefined();
      }),
    );
  });

  it('given any text at all, when decoded, then it never throws and gives an object or nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const decoded = decodeReserved(text);
        expect(decoded === undefined || (typeof decoded === 'object' && !Array.isArray(decoded))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bracketValue (properties)', () => {
  const prefixes = ['imgs', 'audio', 'audioT', 'file', 'MP'] as const;

  it('given a known prefix and any non-empty value, brackets inside it included, then the value comes back whole', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        tricky.filter((value) => value !== ''),
        fc.constantFrom('', ' ', '\n'),
        (prefix, value, pad) => {
          expect(bracketValue(`${pad}${prefix}[${value}]${pad}`, prefixes)).toBe(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given a prefix that is not asked for, an empty value or no closing bracket, then there is no value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), tricky, (prefix, value) => {
        expect(
          bracketValue(
            `${prefix}[${value}]`,
            prefixes.filter((known) => known !== prefix),
          ),
        ).toBeUndefined();
        expect(bracketValue(`${prefix}[]`, prefixes)).toBeUndefined();
        // Without its closing bracket (a value ending in `]` would close it).
        if (!value.trimEnd().endsWith(']')) expect(bracketValue(`${prefix}[${value}`, prefixes)).toBeUndefined();
      }),
    );
  });
});

describe('chat times (properties)', () => {
  /** A chat row with only what normalizeChat needs, at `time`. */
  const chatAt = (time: string) => ({
    ad_chatting_id: 1_000_123,
    ad_chatting_talter: 'wxid_fan0001',
    ad_chatting_issend: 0,
    ad_chatting_resvred: null,
    ad_wechat_id: 10001,
    ad_chatting_sate: 1,
    ad_chatting_time: time,
    ad_chatting_content: 'hi',
  });

  it('given any instant written as a zone-less Beijing time, when a chat is normalized, then `at` is that instant in UTC', () => {
    const instant = fc
      .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) })
      .map((ms) => ms - (ms % 1000));
    fc.assert(
      fc.property(instant, fc.constantFrom('-', '/'), (ms, separator) => {
        const text = formatBeijingTime(ms).replace(/-/g, separator);
        expect(normalizeChat(chatAt(text), {}).at).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 300 },
    );
  });
});
