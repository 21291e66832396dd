import { KefuRecordSchema } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { normalizeRecord, OccurrenceCounter, recordFingerprint } from '../src/record-normalizer.js';
import { RawRecordSchema } from '../src/wechat-mp-schemas.js';

const APP = 'wx0000000000000001';

function raw(fields: Partial<{ openid: string; opercode: number; text: string; time: number; worker: string }>) {
  const input = {
    openid: 'o-customer',
    opercode: 2002,
    text: 'hello',
    time: 1_764_000_000,
    worker: 'kf1@shop',
    ...fields,
  };
  return { record: RawRecordSchema.parse(input), json: input };
}

describe('normalizeRecord', () => {
  it('maps an agent-sent text (2002) to an outbound text record with the agent and UTC time', () => {
    const { record, json } = raw({ opercode: 2002, text: 'hi there' });
    const normalized = normalizeRecord(APP, record, json, 0);
    expect(KefuRecordSchema.parse(normalized)).toEqual(normalized);
    expect(normalized).toMatchObject({
      provider: 'wechat-mp',
      account: APP,
      customer: 'o-customer',
      agent: 'kf1@shop',
      direction: 'outbound',
      kind: 'text',
      text: 'hi there',
      at: '2025-11-24T16:00:00.000Z',
      raw: json,
    });
  });

  it('maps 2003 and 2001 to inbound', () => {
    expect(normalizeRecord(APP, raw({ opercode: 2003 }).record, {}, 0).direction).toBe('inbound');
    expect(normalizeRecord(APP, raw({ opercode: 2001 }).record, {}, 0).direction).toBe('inbound');
  });

  it.each([
    ['[image]', 'image'],
    ['[voice]', 'voice'],
    ['[video]', 'video'],
  ] as const)('maps the placeholder %s to kind %s without text', (text, kind) => {
    const normalized = normalizeRecord(APP, raw({ text }).record, {}, 0);
    expect(normalized.kind).toBe(kind);
    expect(normalized.text).toBeUndefined();
  });

  it.each([
    [1000, 'session_waiting'],
    [1001, 'session_accepted'],
    [1002, 'session_initiated'],
    [1004, 'session_closed'],
    [1005, 'session_grabbed'],
  ] as const)('maps legacy opercode %i to the system event %s', (opercode, event) => {
    const normalized = normalizeRecord(APP, raw({ opercode, text: '' }).record, {}, 0);
    expect(normalized).toMatchObject({ direction: 'system', kind: 'event', event });
  });

  it('keeps an unknown opercode as an unknown system record with its text and raw', () => {
    const { record, json } = raw({ opercode: 3999, text: 'new thing' });
    const normalized = normalizeRecord(APP, record, json, 0);
    expect(normalized).toMatchObject({ direction: 'system', kind: 'unknown', text: 'new thing', raw: json });
  });

  it('omits the agent when the worker is empty', () => {
    expect(normalizeRecord(APP, raw({ worker: '' }).record, {}, 0).agent).toBeUndefined();
  });

  it('derives the same id for the same record and occurrence, and distinct ids for identical duplicates', () => {
    const { record } = raw({});
    const first = normalizeRecord(APP, record, {}, 0).id;
    expect(normalizeRecord(APP, record, {}, 0).id).toBe(first);
    expect(normalizeRecord(APP, record, {}, 1).id).not.toBe(first);
    expect(normalizeRecord('wx-other-app', record, {}, 0).id).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('OccurrenceCounter', () => {
  it('counts identical records and resumes from a snapshot of the last second', () => {
    const a = recordFingerprint(APP, raw({ time: 10 }).record);
    const b = recordFingerprint(APP, raw({ time: 11 }).record);
    const counter = new OccurrenceCounter();
    expect(counter.next(a, 10)).toBe(0);
    expect(counter.next(a, 10)).toBe(1);
    expect(counter.next(b, 11)).toBe(0);
    expect(counter.snapshot()).toEqual({ t: 11, c: { [b]: 1 } });
    const resumed = new OccurrenceCounter(counter.snapshot());
    expect(resumed.next(b, 11)).toBe(1);
  });

  it('has no snapshot before counting anything', () => {
    expect(new OccurrenceCounter().snapshot()).toBeUndefined();
  });
});
