import { isKefuError } from '@kefu/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEIJING_OFFSET_MINUTES, parseBeijingTime, readBeijingTime } from '../src/beijing-time.js';

/** The formats the Youmi docs and examples show (platforms/youmi-api.md §1.2, §2.2, §3). */
type TimeFormat = 'iso-offset' | 'iso-utc' | 'iso-local' | 'space' | 'slash' | 'slash-padded';
const FORMATS: readonly TimeFormat[] = ['iso-offset', 'iso-utc', 'iso-local', 'space', 'slash', 'slash-padded'];

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * Formats `ms` the way a Youmi server would, with `fraction` digits after the seconds
 * (the first three are the milliseconds, the rest sub-millisecond noise, as .NET's
 * seven-digit ticks), written by hand so the test shares nothing with the parser.
 */
function format(ms: number, style: TimeFormat, extraDigits: string, offsetMinutes: number): string {
  const local = new Date(ms + (style === 'iso-utc' ? 0 : offsetMinutes) * 60_000);
  const y = local.getUTCFullYear();
  const mo = local.getUTCMonth() + 1;
  const d = local.getUTCDate();
  const h = local.getUTCHours();
  const mi = local.getUTCMinutes();
  const s = local.getUTCSeconds();
  const fraction = `${pad(local.getUTCMilliseconds(), 3)}${extraDigits}`.replace(/0+$/, '');
  const dot = fraction === '' ? '' : `.${fraction}`;
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  switch (style) {
    case 'iso-offset':
      return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${dot}${zone}`;
    case 'iso-utc':
      return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${dot}Z`;
    case 'iso-local':
      return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${dot}`;
    case 'space':
      return `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}${dot}`;
    case 'slash':
      return `${y}/${mo}/${d} ${h}:${pad(mi)}:${pad(s)}`;
    case 'slash-padded':
      return `${y}/${pad(mo)}/${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}${dot}`;
  }
}

const instant = fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) });
const subMillisecond = fc.stringMatching(/^\d{0,4}$/);

function roundTrips(): void {
  fc.assert(
    fc.property(instant, fc.constantFrom(...FORMATS), subMillisecond, (ms, style, extra) => {
      // Formats without fraction digits (`/` dates as .NET prints them) carry whole seconds.
      const expected = style === 'slash' ? Math.floor(ms / 1000) * 1000 : ms;
      const text = format(ms, style, style === 'slash' ? '' : extra, BEIJING_OFFSET_MINUTES);
      expect(readBeijingTime(text), text).toBe(expected);
    }),
    { numRuns: 600, seed: 18 },
  );
}

describe('readBeijingTime', () => {
  it('given any instant written in any documented format, when parsed, then it is the same instant', roundTrips);

  it('given explicit offsets other than +08:00, when parsed, then the offset of the text wins', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -12 * 60, max: 14 * 60 }), (ms, offset) => {
        expect(readBeijingTime(format(ms, 'iso-offset', '', offset))).toBe(ms);
      }),
      { numRuns: 200, seed: 19 },
    );
  });

  it('given the examples of the docs, when parsed, then they are Beijing time', () => {
    // v1 token answer msgTime and data-call msgTime (platforms/youmi-api.md §1.2).
    expect(new Date(readBeijingTime('2020-06-23T15:46:11.6561987+08:00') as number).toISOString()).toBe(
      '2020-06-23T07:46:11.656Z',
    );
    expect(new Date(readBeijingTime('2018/5/11 14:47:48') as number).toISOString()).toBe('2018-05-11T06:47:48.000Z');
    expect(new Date(readBeijingTime('2018-08-08 10:01:03') as number).toISOString()).toBe('2018-08-08T02:01:03.000Z');
    // Callback MsgTime is Unix seconds (§3).
    expect(readBeijingTime('1600239001')).toBe(1_600_239_001_000);
    expect(readBeijingTime('1600239001123')).toBe(1_600_239_001_123);
  });

  it('given impossible or unknown text, when parsed, then there is no time', () => {
    for (const text of [
      'yesterday',
      '2018-13-01 00:00:00',
      '2019-02-29 00:00:00',
      '2018-05-11 24:00:00',
      '2018-05-11 10:61:00',
      '11/05/2018 10:00:00',
      '2018-05-11 10:00:00.12345678',
      '',
    ]) {
      expect(readBeijingTime(text), text).toBeUndefined();
    }
    expect(readBeijingTime('2020-02-29 12:00:00')).toBe(Date.UTC(2020, 1, 29, 4));
  });

  it('given an unknown format, when parsed strictly, then the typed error names the field and the value', () => {
    let caught: unknown;
    try {
      parseBeijingTime('Mon May 11 2018', 'ad_chatting_time of chat 7');
    } catch (error) {
      caught = error;
    }
    expect(isKefuError(caught) && caught.code).toBe('YOUMI_TIME_INVALID');
    expect((caught as Error).message).toContain('ad_chatting_time of chat 7');
    expect((caught as Error).message).toContain('Mon May 11 2018');
  });
});

describe('readBeijingTime on a host in another zone (TZ=America/New_York)', () => {
  const previous = process.env.TZ;
  beforeAll(() => {
    // Node re-reads TZ when process.env.TZ is assigned (this file runs in its own fork).
    process.env.TZ = 'America/New_York';
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  });

  it('given the host zone is New York, when zone-less Beijing times are parsed, then nothing shifts', () => {
    // Proof the zone really changed: a July date is 4 h behind UTC in New York.
    expect(new Date(2020, 6, 1).getTimezoneOffset()).toBe(240);
    // Date.parse would read the same text in New York time: 12 h later than Beijing.
    expect(Date.parse('2020-07-01T10:00:00') - (readBeijingTime('2020-07-01 10:00:00') as number)).toBe(12 * 3_600_000);
    roundTrips();
  });
});
