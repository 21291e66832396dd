import { isJsonValue, KefuRecordSchema } from '@kefu/core';
import { describe, expect, it } from 'vitest';

const valid = {
  id: 'r1',
  provider: 'wechat-mp',
  account: 'wx1',
  customer: 'o1',
  direction: 'inbound',
  kind: 'text',
  text: '你好',
  at: '2026-11-01T00:00:00.000Z',
  raw: { text: '你好', big: '12345678901234567890', list: [1, null, true] },
};

describe('the record schema', () => {
  it('accepts a complete record', () => {
    expect(KefuRecordSchema.safeParse(valid).success).toBe(true);
  });

  it.each([
    ['an empty id', { id: '' }],
    ['an unknown direction', { direction: 'sideways' }],
    ['an unknown kind', { kind: 'hologram' }],
    ['a time with an offset', { at: '2026-11-01T08:00:00+08:00' }],
    ['a raw that is not JSON (a Date)', { raw: new Date() }],
    ['a raw holding undefined', { raw: { a: undefined } }],
    ['a raw holding NaN', { raw: [Number.NaN] }],
  ])('rejects %s', (_name, change) => {
    expect(KefuRecordSchema.safeParse({ ...valid, ...change }).success).toBe(false);
  });
});

describe('isJsonValue', () => {
  it('accepts what JSON.parse produces and rejects what JSON cannot hold', () => {
    expect(isJsonValue(JSON.parse('{"a":[1,"b",null,{"c":false}]}'))).toBe(true);
    expect(isJsonValue(Object.create(null))).toBe(true);
    expect(isJsonValue(10n)).toBe(false);
    expect(isJsonValue(() => 1)).toBe(false);
    expect(isJsonValue(new Map())).toBe(false);
    expect(isJsonValue(Number.POSITIVE_INFINITY)).toBe(false);
  });
});

describe('parseConfig', () => {
  it('names every bad field in the component error and keeps secrets out', async () => {
    const { parseConfig, coreError } = await import('@kefu/core');
    const { z } = await import('zod');
    const schema = z.object({ url: z.url(), secret: z.string().min(12), retries: z.number().int() });
    const input = { url: 'not a url', secret: 'tiny', retries: 1 };
    let caught: unknown;
    try {
      parseConfig(schema, input, 'demo config', (message, details) =>
        coreError('KEFU_CONFIG_INVALID', message, { details }),
      );
    } catch (error) {
      caught = error;
    }
    const error = caught as { code: string; message: string; details: { field: string; issues: string[] } };
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('demo config: `url`');
    expect(error.message).toContain('`secret`');
    expect(error.message).not.toContain('tiny');
    expect(error.details.field).toBe('url');
    expect(error.details.issues).toHaveLength(2);
    expect(
      parseConfig(
        schema,
        { url: 'https://x.test', secret: 'long-enough-secret', retries: 2 },
        'demo',
        () => new Error('no'),
      ),
    ).toMatchObject({ retries: 2 });
  });
});
