import type { Checkpoint, KefuRecord } from '@kefu/core';
import type { ResolvedYoumiReadings, YoumiRawChat } from '@kefu/emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

/**
 * The record stream under every reading the docs leave open (the emulator's knobs), against
 * the emulator's ground truth: a bounded sync (`to` in the past, stopped and resumed at a
 * random checkpoint), late uploads (new id, old time) arriving before it and between the
 * syncs, a revoked token, then an open sync from the checkpoint. Every chat of the range must
 * arrive exactly once. The paging readings are enumerated exhaustively; the format readings,
 * page sizes, resume points and late uploads are drawn by fast-check in each combination.
 */

const HOUR = 3_600_000;

type Paging = Pick<ResolvedYoumiReadings, 'chatOrder' | 'minChattingId' | 'startBound' | 'endBound'>;
const PAGING: Paging[] = [];
for (const chatOrder of ['id', 'time', 'time-desc'] as const)
  for (const minChattingId of ['exclusive', 'inclusive'] as const)
    for (const startBound of ['inclusive', 'exclusive'] as const)
      for (const endBound of ['inclusive', 'exclusive'] as const)
        PAGING.push({ chatOrder, minChattingId, startBound, endBound });

/** Reads an emulator time text back, independently of the provider's parser (UTC+8; 7 fraction digits). */
function timeOf(text: string): number {
  const match = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[T ](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{7}))?(\+08:00)?$/.exec(text);
  if (!match) throw new Error(`unexpected time ${text}`);
  const [, y, mo, d, h, mi, s, fraction] = match;
  return (
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) -
    8 * HOUR +
    Math.floor(Number(fraction ?? '0') / 10_000)
  );
}

/** Reads a stream to the end, or stops after `stopAfter` records and resumes from that checkpoint (a crash). */
async function sync(provider: YoumiProvider, query: Parameters<YoumiProvider['records']>[0], stopAfter?: number) {
  const records: KefuRecord[] = [];
  let checkpoint: Checkpoint | undefined = query.resumeFrom;
  let stopped = false;
  for await (const batch of provider.records(query).batches({ size: 1 })) {
    records.push(...batch.records);
    checkpoint = batch.checkpoint;
    if (stopAfter !== undefined && records.length >= stopAfter) {
      stopped = true;
      break;
    }
  }
  if (stopped) {
    for await (const batch of provider
      .records({ ...query, ...(checkpoint ? { resumeFrom: checkpoint } : {}) })
      .batches({ size: 1 })) {
      records.push(...batch.records);
      checkpoint = batch.checkpoint;
    }
  }
  return { records, checkpoint };
}

const scenario = fc.record({
  timeFormat: fc.constantFrom('space', 'iso', 'iso7', 'fraction7', 'slash'),
  resvredEncoding: fc.constantFrom('percent', 'form'),
  v2TokenRejection: fc.constantFrom('errmsg', 'http401'),
  fansListShape: fc.constantFrom('relation', 'camel'),
  pageSize: fc.integer({ min: 1, max: 7 }),
  fanConcurrency: fc.integer({ min: 1, max: 3 }),
  /** Start of the range, hours before the emulator start. */
  fromHours: fc.integer({ min: 40, max: 70 }),
  /** The bounded sync's `to`, hours after `from`. */
  boundedHours: fc.integer({ min: 1, max: 36 }),
  /** Put `from` / the bounded `to` on a chat's own time (plus an offset in ms), where the bounds' readings differ. */
  fromOnChat: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0, 1, -1)), { nil: undefined }),
  toOnChat: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0, 1, -1, 999)), { nil: undefined }),
  stopFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  late: fc.array(
    fc.record({
      fan: fc.nat(),
      /** The chat's own time, minutes after `from` (negative: before the range). */
      minutes: fc.integer({ min: -120, max: 70 * 60 }),
      /** Arrives before the bounded sync, or between the syncs. */
      beforeFirst: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
});

describe.each(['time', 'fan'] as const)('Youmi record stream, chat ids by %s, across the readings', (chatIds) => {
  let emulator: YoumiEmulator;
  beforeAll(async () => {
    emulator = await startYoumiEmulator({ fansPerAccount: 5, chatsPerFan: 8, days: 3, chatIds });
  });
  afterAll(() => emulator.emulator.stop());

  it.each(PAGING)(
    'given rows by %o, when a bounded sync (crashed and resumed) is followed by an open one with late uploads between, then every chat of the range arrives once',
    async (paging) => {
      await fc.assert(
        fc.asyncProperty(scenario, async (run) => {
          const { youmi } = emulator;
          youmi.setReadings({
            ...paging,
            timeFormat: run.timeFormat,
            resvredEncoding: run.resvredEncoding,
            v2TokenRejection: run.v2TokenRejection,
            fansListShape: run.fansListShape,
          });
          const clock = emulator.emulator.clock;
          // Chat times of the history, to put the bounds exactly on them.
          const times = youmi
            .expectedChats({
              wechatId: 10001,
              from: new Date(emulator.start - 72 * HOUR),
              to: new Date(emulator.start),
            })
            .map((chat) => timeOf(chat.ad_chatting_time))
            .sort((a, b) => a - b);
          const onChat = (pick: [number, number] | undefined, min: number, fallback: number) => {
            const candidates = times.filter((time) => time > min);
            return pick && candidates.length > 0
              ? (candidates[pick[0] % candidates.length] as number) + pick[1]
              : fallback;
          };
          const from = onChat(run.fromOnChat, emulator.start - 70 * HOUR, emulator.start - run.fromHours * HOUR);
          const boundedTo = Math.max(from, onChat(run.toOnChat, from, from + run.boundedHours * HOUR));
          const fans = youmi.fans(10001);
          const now = clock.now();
          for (const [index, late] of run.late.entries()) {
            youmi.addLateUpload({
              wechatId: 10001,
              fansKey: fans[late.fan % fans.length]?.fansKey as string,
              time: from + late.minutes * 60_000 + index * 7,
              arriveAt: late.beforeFirst ? now : now + HOUR,
              content: `补传 ${index}`,
            });
          }
          const provider = new YoumiProvider(
            emulator.config({ pageSize: run.pageSize, fanConcurrency: run.fanConcurrency }),
            { now: () => clock.now() },
          );
          try {
            const bounded = { account: '10001', from, to: boundedTo };
            // The ground truth of [start, end): expectedChats takes both ends inclusive, times are whole ms.
            const truthOf = (start: number, end: number) =>
              end <= start
                ? []
                : youmi.expectedChats({ wechatId: 10001, from: new Date(start), to: new Date(end - 1) });
            const size = truthOf(from, boundedTo).length;
            const stopAfter =
              run.stopFraction === undefined || size === 0 ? undefined : Math.floor(run.stopFraction * size);
            const first = await sync(provider, bounded, stopAfter);
            const firstTruth = truthOf(from, boundedTo);
            clock.advance(HOUR);
            youmi.revokeTokens();
            const to = clock.now();
            const second = await sync(provider, {
              account: '10001',
              from,
              to,
              ...(first.checkpoint ? { resumeFrom: first.checkpoint } : {}),
            });

            const delivered = [...first.records, ...second.records];
            const truth = truthOf(from, to);
            const ids = delivered.map((record) => record.id);
            const twice = ids.filter((id, index) => ids.indexOf(id) !== index);
            expect(
              twice.map(
                (id) =>
                  `${id} ${delivered.find((r) => r.id === id)?.at} in ${first.records.some((r) => r.id === id) ? 'first' : ''}+${second.records.filter((r) => r.id === id).length}× second`,
              ),
              `nothing twice (from ${new Date(from).toISOString()}, bounded to ${new Date(boundedTo).toISOString()})`,
            ).toEqual([]);
            const missing = truth.filter((chat) => !ids.includes(`10001:${chat.ad_chatting_id}`));
            expect(
              missing.map(
                (chat) =>
                  `${chat.ad_chatting_id} ${chat.ad_chatting_talter} ${chat.ad_chatting_time} ${chat.ad_chatting_content.slice(0, 8)}`,
              ),
              `nothing missing (from ${new Date(from).toISOString()}, bounded to ${new Date(boundedTo).toISOString()}, first ${first.records.length}, stop ${stopAfter})`,
            ).toEqual([]);
            expect([...ids].sort()).toEqual(truth.map((chat) => `10001:${chat.ad_chatting_id}`).sort());
            // The first sync delivered exactly its own range, late uploads that had arrived included.
            expect(first.records.map((r) => r.id).sort()).toEqual(
              firstTruth.map((chat) => `10001:${chat.ad_chatting_id}`).sort(),
            );
            // Times read in every format: `at` is the emulator's time, read independently here.
            for (const record of delivered) {
              expect(Date.parse(record.at)).toBe(timeOf((record.raw as YoumiRawChat).ad_chatting_time));
            }
          } finally {
            await provider.close();
          }
        }),
        { numRuns: 8, seed: 18 },
      );
    },
  );
});
