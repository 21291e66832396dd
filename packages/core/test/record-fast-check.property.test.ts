import { isPlainValidRecord, KefuRecordSchema, RecordDirectionSchema, RecordKindSchema } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// isPlainValidRecord may say "don't know" (false) but must never accept what the schema rejects.
const field = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.constant(null),
  fc.constantFrom(...RecordDirectionSchema.options, ...RecordKindSchema.options, 'session_closed'),
);
/** Timestamps as `toISOString` writes them, years 0000–9999. */
const isoTimestamp = fc
  .date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString());
const timestamp = fc.oneof(
  isoTimestamp,
  fc.constantFrom(
    '2026-02-30T00:00:00.000Z',
    '2026-11-23T24:00:00.000Z',
    '2026-11-23T10:00:00.000+08:00',
    '2026-11-23T10:00:00Z',
    '2026-13-01T00:00:00.000Z',
    '+012026-01-01T00:00:00.000Z',
    '2026-11-23T10:00:60.000Z',
  ),
  fc.string({ maxLength: 30 }),
  // The right shape with every field possibly out of range: probes the calendar check.
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(([y, mo, d, h, mi, s, ms]) => {
      const pad = (n: number, width = 2) => String(n).padStart(width, '0');
      return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}Z`;
    }),
);
const raw = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constant(Number.NaN), fc.constant(new Date(0)));
/** A record of the required fields only, with the given timestamps and raw payloads. */
function recordOf(at: fc.Arbitrary<string>, payload: fc.Arbitrary<unknown>) {
  return fc.record({
    id: fc.string({ minLength: 1, maxLength: 8 }),
    provider: fc.string({ minLength: 1, maxLength: 8 }),
    account: fc.string({ minLength: 1, maxLength: 8 }),
    customer: fc.string({ minLength: 1, maxLength: 8 }),
    direction: fc.constantFrom(...RecordDirectionSchema.options),
    kind: fc.constantFrom(...RecordKindSchema.options),
    at,
    raw: payload,
  });
}
const valid = recordOf(timestamp, raw);
// Every field of the schema, optional ones included, set to something possibly wrong.
const mutated = fc
  .tuple(valid, fc.constantFrom(...Object.keys(KefuRecordSchema.shape)), field)
  .map(([record, key, value]) => ({ ...record, [key]: value }));

describe('isPlainValidRecord', () => {
  it('accepts only records the schema accepts', () => {
    fc.assert(
      fc.property(fc.oneof(valid, mutated, fc.anything()), (record) => {
        if (isPlainValidRecord(record)) expect(KefuRecordSchema.safeParse(record).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the fast path for every record in the common shape', () => {
    const common = recordOf(isoTimestamp, fc.jsonValue());
    fc.assert(
      fc.property(common, (record) => {
        expect(isPlainValidRecord(record)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts the common shape (so the fast path is taken)', () => {
    const record = {
      id: 'r1',
      provider: 'wechat-mp',
      account: 'wx1',
      customer: 'o1',
      agent: 'kf1@shop',
      direction: 'outbound',
      kind: 'text',
      text: 'hi',
      at: '2026-11-23T10:00:00.000Z',
      raw: { openid: 'o1', time: 1 },
    };
    expect(isPlainValidRecord(record)).toBe(true);
    expect(isPlainValidRecord({ ...record, at: '2026-02-30T10:00:00.000Z' })).toBe(false);
    expect(isPlainValidRecord({ ...record, media: { key: 'k' } })).toBe(false);
    expect(isPlainValidRecord({ ...record, raw: { bad: Number.NaN } })).toBe(false);
  });
});
