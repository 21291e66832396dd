import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCanonicalRawRecord, RawRecordSchema } from '../src/wechat-mp-schemas.js';

const value = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double(),
  fc.constant(undefined),
  fc.constant(null),
);

describe('isCanonicalRawRecord', () => {
  it('accepts only what RawRecordSchema returns unchanged', () => {
    const record = fc.record(
      { openid: value, opercode: value, text: value, time: value, worker: value, extra: value },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(record, fc.anything()), (item) => {
        if (!isCanonicalRawRecord(item)) return;
        const parsed = RawRecordSchema.safeParse(item);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(item);
      }),
      { numRuns: 5000 },
    );
  });

  it('sends records needing coercion or defaults to the schema', () => {
    const item = { openid: 'o1', opercode: 2002, text: 'hi', time: 1_764_000_000, worker: 'kf1@shop' };
    expect(isCanonicalRawRecord(item)).toBe(true);
    expect(isCanonicalRawRecord({ ...item, opercode: '2002' })).toBe(false);
    expect(isCanonicalRawRecord({ ...item, worker: undefined })).toBe(false);
  });
});
