import { formatZodIssue } from '@kefu/core';
import { z } from 'zod';
import { emulatorError } from '../errors.js';

/**
 * The readings of getmsglist's cursor. The docs (API-NOTES "Records"; platforms/wechat-push.md
 * §5) say only: request `msgid` starts at 1, ids ascend, and a client passes the `msgid` the
 * interface returned as the next start. The official examples answer `"msgid": 20165258` /
 * `20165267` to `msgid: 1`: a global, ascending message id. What they leave open gets one
 * knob per legitimate reading, so the provider is tested under every one of them.
 */

/** One value per knob; see the README's "getmsglist readings" table. */
export const WechatRecordKnobsSchema = z.strictObject({
  /**
   * `global-id` (documented shape): records carry account-wide ascending ids and the request
   * `msgid` is a lower bound on them. `position`: `msgid` numbers the window's records from 1
   * and the answer is `msgid + records returned` (kefu 0.1's reading before the msgid fix).
   */
  msgidModel: z.enum(['global-id', 'position']),
  /** `inclusive`: the page starts at the first id `>= msgid`; `exclusive`: `> msgid` (global-id only). */
  continuation: z.enum(['inclusive', 'exclusive']),
  /** `last`: the answer's `msgid` is the id of the page's last record; `next`: that id + 1 (global-id only). */
  responseMsgid: z.enum(['last', 'next']),
  /** `exclusive`: `starttime <= time < endtime`; `inclusive`: `time <= endtime` too (the docs do not say). */
  endtime: z.enum(['exclusive', 'inclusive']),
  /** The answer's `number`: `returned` = records in the page ("消息数量"); `requested` echoes the request, as the doc's example (10000 for one record shown) can be read. */
  number: z.enum(['returned', 'requested']),
  /**
   * An impossible answer on full pages, to test that clients fail loudly: `stall` repeats the
   * request's `msgid`, `missing` answers 0, `backwards` answers the request's `msgid` − 1
   * (pages requested with `msgid` > 1). `none` by default.
   */
  cursorFault: z.enum(['none', 'stall', 'backwards', 'missing']),
  /**
   * Seconds after its time a record is listed by the record APIs (0 by default). The docs do
   * not say how soon a message can be read back; a lag makes records appear after a sync whose
   * `to` had already passed their time.
   */
  visibilityLagSeconds: z.number().int().min(0).max(86_400),
});
/** The getmsglist readings in force. */
export type WechatRecordKnobs = z.infer<typeof WechatRecordKnobsSchema>;

/** The documented shape: global ids, inclusive lower bound, the last id answered, half-open windows. */
export const DEFAULT_RECORD_KNOBS: Readonly<WechatRecordKnobs> = {
  msgidModel: 'global-id',
  continuation: 'inclusive',
  responseMsgid: 'last',
  endtime: 'exclusive',
  number: 'returned',
  cursorFault: 'none',
  visibilityLagSeconds: 0,
};

/**
 * Every valid combination of the readings that change what a client must do: global ids
 * × {inclusive + last, inclusive + next, exclusive + last} and the position model, each with
 * `endtime` exclusive and inclusive (8 in all; `number` and `cursorFault` at their defaults).
 * Test a getmsglist client against each.
 */
export function wechatRecordReadings(): WechatRecordKnobs[] {
  const cursors: Array<Pick<WechatRecordKnobs, 'msgidModel' | 'continuation' | 'responseMsgid'>> = [
    { msgidModel: 'global-id', continuation: 'inclusive', responseMsgid: 'last' },
    { msgidModel: 'global-id', continuation: 'inclusive', responseMsgid: 'next' },
    { msgidModel: 'global-id', continuation: 'exclusive', responseMsgid: 'last' },
    { msgidModel: 'position', continuation: 'inclusive', responseMsgid: 'next' },
  ];
  const endtimes = ['exclusive', 'inclusive'] as const;
  return endtimes.flatMap((endtime) => cursors.map((cursor) => ({ ...DEFAULT_RECORD_KNOBS, ...cursor, endtime })));
}

/** A short name of a reading for test titles and logs: `global-id/inclusive/last/endtime-exclusive`. */
export function describeRecordReading(knobs: WechatRecordKnobs): string {
  const cursor =
    knobs.msgidModel === 'position' ? 'position' : `global-id/${knobs.continuation}/${knobs.responseMsgid}`;
  return `${cursor}/endtime-${knobs.endtime}`;
}

/**
 * `base` with the knobs of `input` replaced, validated. `exclusive` + `next` is refused: under
 * it the documented rule "pass the returned msgid back" itself skips the record whose id is
 * the last + 1, so it is a self-inconsistent server, not a reading of the docs.
 */
export function parseRecordKnobs(input: unknown, base: Readonly<WechatRecordKnobs> = DEFAULT_RECORD_KNOBS) {
  const parsed = WechatRecordKnobsSchema.partial().safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw emulatorError(
      'EMULATOR_OPTIONS_INVALID',
      `wechat.records.${formatZodIssue(issue, '?')} (see the getmsglist readings in the @kefu/emulator README)`,
    );
  }
  const knobs: WechatRecordKnobs = { ...base, ...stripUndefined(parsed.data) };
  if (knobs.msgidModel === 'global-id' && knobs.continuation === 'exclusive' && knobs.responseMsgid === 'next') {
    throw emulatorError(
      'EMULATOR_OPTIONS_INVALID',
      'wechat.records: continuation "exclusive" with responseMsgid "next" is not a reading of the docs: a client passing the returned msgid back (the documented rule) would skip the record whose id is last + 1. Use inclusive + next, exclusive + last or inclusive + last.',
    );
  }
  return knobs;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as Partial<T>;
}
