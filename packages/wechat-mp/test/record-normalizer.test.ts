import { createHash } from 'node:crypto';
import { KefuRecordSchema } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  identityDigest,
  normalizeRecord,
  OccurrenceCounter,
  OPERCODES,
  recordId,
  recordIdentity,
} from '../src/record-normalizer.js';
import { type RawRecord, RawRecordSchema } from '../src/wechat-mp-schemas.js';

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

  it('keeps texts named like Object.prototype members as text records (not a placeholder lookup hit)', () => {
    for (const text of ['valueOf', 'toString', ' constructor ', '__proto__', 'hasOwnProperty']) {
      const { record, json } = raw({ opercode: 2003, text });
      const normalized = normalizeRecord(APP, record, json, 0);
      expect(normalized.kind, text).toBe('text');
      expect(normalized.text).toBe(text);
      expect(KefuRecordSchema.safeParse(normalized).success).toBe(true);
    }
    // Placeholders with spaces around them are still placeholders.
    expect(normalizeRecord(APP, raw({ text: ' [voice] ' }).record, {}, 0).kind).toBe('voice');
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

  it('derives the documented id: sha256(JSON [appId, openid, opercode, time, worker, text] + "#" + n), 32 hex', () => {
    const { record } = raw({ text: '你好 "quoted"' });
    const identity = JSON.stringify([APP, 'o-customer', 2002, 1_764_000_000, 'kf1@shop', '你好 "quoted"']);
    const expected = createHash('sha256').update(`${identity}#3`).digest('hex').slice(0, 32);
    expect(normalizeRecord(APP, record, {}, 3).id).toBe(expected);
    // Pinned: a change of scheme changes every stored id, so it must be a deliberate one.
    expect(normalizeRecord(APP, raw({}).record, {}, 0).id).toBe('01313a3a94ef6976dd3b918aaa0fb175');
  });
});

describe('normalizeRecord against the field-by-field reference', () => {
  /** What normalizeRecord gave before its fast paths: fields added one by one, in this order. */
  function reference(appId: string, record: RawRecord, raw: unknown, occurrence: number): Record<string, unknown> {
    const meaning = OPERCODES[record.opercode];
    const trimmed = record.text.trim();
    const placeholder = ['[image]', '[voice]', '[video]'].includes(trimmed) ? trimmed.slice(1, -1) : undefined;
    const kind = !meaning ? 'unknown' : meaning.event ? 'event' : (placeholder ?? 'text');
    const identity = JSON.stringify([appId, record.openid, record.opercode, record.time, record.worker, record.text]);
    const normalized: Record<string, unknown> = {
      id: createHash('sha256').update(`${identity}#${occurrence}`).digest('hex').slice(0, 32),
      provider: 'wechat-mp',
      account: appId,
      customer: record.openid,
      direction: meaning?.direction ?? 'system',
      kind,
      at: new Date(record.time * 1000).toISOString(),
      raw,
    };
    if (record.worker) normalized.agent = record.worker;
    if (meaning?.event) normalized.event = meaning.event;
    if (record.text && (kind === 'text' || kind === 'unknown' || kind === 'event')) normalized.text = record.text;
    return normalized;
  }

  it('gives the same JSON line (fields, values and their order) for any raw record', () => {
    const opercode = fc.oneof(
      fc.constantFrom(...Object.keys(OPERCODES).map(Number)),
      fc.integer({ min: 0, max: 3000 }),
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('', '[image]', ' [voice] ', '[video]', 'valueOf', 'toString', '你好'),
    );
    fc.assert(
      fc.property(
        fc.record({
          openid: fc.string({ minLength: 1 }),
          opercode,
          text,
          time: fc.integer({ min: 0, max: 4_102_444_800 }),
          worker: fc.oneof(fc.constant(''), fc.string()),
        }),
        fc.nat({ max: 5 }),
        (fields, occurrence) => {
          const record = RawRecordSchema.parse(fields);
          const normalized = normalizeRecord(APP, record, fields, occurrence);
          expect(JSON.stringify(normalized)).toBe(JSON.stringify(reference(APP, record, fields, occurrence)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('recordId', () => {
  /** The reference: the string `${identity}#${occurrence}` hashed as UTF-8 (what every stored id was made with). */
  const reference = (identity: string, occurrence: number) =>
    createHash('sha256').update(`${identity}#${occurrence}`).digest('hex').slice(0, 32);

  it('equals sha256 of the string identity + "#" + occurrence, whatever the text, its length and the occurrence', () => {
    // Full Unicode with lone surrogates (both ways encode them as U+FFFD); long identities grow the reused buffer.
    const long = fc
      .string({ unit: 'grapheme', minLength: 1 })
      .map((text) => text.repeat(Math.ceil(5_000 / text.length)));
    const identity = fc.oneof(fc.string({ unit: 'binary' }), long, fc.string({ unit: 'grapheme-ascii' }));
    const occurrence = fc.oneof(fc.nat({ max: 12 }), fc.nat(), fc.integer(), fc.double());
    fc.assert(
      fc.property(fc.array(fc.tuple(identity, occurrence), { minLength: 1, maxLength: 5 }), (cases) => {
        // Several in a row: each must not see the previous one's bytes.
        for (const [text, n] of cases) expect(recordId(text, n)).toBe(reference(text, n));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same ids as the reference for real record identities', () => {
    fc.assert(
      fc.property(
        fc.record({
          openid: fc.string({ minLength: 1 }),
          opercode: fc.integer(),
          text: fc.string({ unit: 'binary' }),
          time: fc.nat(),
          worker: fc.string(),
        }),
        fc.nat({ max: 30 }),
        (fields, occurrence) => {
          const identity = recordIdentity(APP, fields);
          expect(recordId(identity, occurrence)).toBe(reference(identity, occurrence));
        },
      ),
    );
  });
});

describe('OccurrenceCounter', () => {
  it('counts identical records and resumes from a snapshot of the last second', () => {
    const a = recordIdentity(APP, raw({ time: 10 }).record);
    const b = recordIdentity(APP, raw({ time: 11 }).record);
    const counter = new OccurrenceCounter();
    expect(counter.next(a, 10)).toBe(0);
    expect(counter.next(a, 10)).toBe(1);
    expect(counter.next(b, 11)).toBe(0);
    // The snapshot keeps digests, never the records' content.
    expect(counter.snapshot()).toEqual({ t: 11, c: { [identityDigest(b)]: 1 } });
    const resumed = new OccurrenceCounter(counter.snapshot());
    expect(resumed.next(b, 11)).toBe(1);
  });

  it('keeps the counts it resumed with in its own snapshots until their second passes', () => {
    const a = recordIdentity(APP, raw({ time: 11, text: 'a' }).record);
    const b = recordIdentity(APP, raw({ time: 11, text: 'b' }).record);
    const counter = new OccurrenceCounter();
    counter.next(a, 11);
    counter.next(a, 11);
    const resumed = new OccurrenceCounter(counter.snapshot());
    expect(resumed.next(b, 11)).toBe(0);
    expect(resumed.snapshot()).toEqual({ t: 11, c: { [identityDigest(a)]: 2, [identityDigest(b)]: 1 } });
    expect(new OccurrenceCounter(resumed.snapshot()).next(a, 11)).toBe(2);
    resumed.next(b, 12);
    expect(resumed.snapshot()).toEqual({ t: 12, c: { [identityDigest(b)]: 1 } });
  });

  // Records in time order drawn from few identities, so duplicates within a second are
  // common; the second case puts up to 20 identities in one second (past the scan, into the index).
  it.each([
    ['few identities per second', ['x', 'y', 'z'], 2],
    ['many identities per second', Array.from({ length: 20 }, (_, index) => `t${index}`), 1],
  ])(
    'gives the same occurrences whether or not it is snapshotted and resumed between records, by identity or by first id (%s)',
    (_case, texts, maxAdvance) => {
      const advance = fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: maxAdvance }));
      const rareResume = fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true));
      const records = fc
        .array(fc.tuple(advance, fc.constantFrom(...texts)), { minLength: 20, maxLength: 120 })
        .map((steps) => {
          let time = 100;
          return steps.map(([step, text]) => {
            time += step;
            return { identity: recordIdentity(APP, raw({ time, text }).record), time };
          });
        });
      fc.assert(
        fc.property(records, fc.array(rareResume, { maxLength: 120 }), (list, resumeBefore) => {
          const straight = new OccurrenceCounter();
          let resumable = new OccurrenceCounter();
          // Keyed by the id at occurrence 0 (what record pages do): the same counts and snapshots.
          let keyed = new OccurrenceCounter();
          // A reference model: counts by identity in a plain Map, cleared when the second advances.
          const model = new Map<string, number>();
          let modelSecond = Number.NEGATIVE_INFINITY;
          list.forEach(({ identity, time }, index) => {
            if (resumeBefore[index]) {
              resumable = new OccurrenceCounter(resumable.snapshot());
              keyed = new OccurrenceCounter(keyed.snapshot());
            }
            if (time > modelSecond) {
              model.clear();
              modelSecond = time;
            }
            const expected = model.get(identity) ?? 0;
            model.set(identity, expected + 1);
            expect(straight.next(identity, time)).toBe(expected);
            expect(resumable.next(identity, time)).toBe(expected);
            expect(keyed.next(identity, time, recordId(identity, 0))).toBe(expected);
            expect(keyed.snapshot()).toEqual(resumable.snapshot());
          });
        }),
      );
    },
  );

  it('has no snapshot before counting anything', () => {
    expect(new OccurrenceCounter().snapshot()).toBeUndefined();
  });
});
