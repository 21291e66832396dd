import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YoumiRawChat, YoumiReadings } from '../src/youmi/index.js';
import { startYoumi, YOUMI_TEST_START, type YoumiUnderTest } from './youmi-support.js';

const DAY = 86_400_000;

/** Reads every documented time format back (an independent reading for the test: UTC+8 unless an offset is given). */
function timeOf(text: string): number {
  const match = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[T ](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{7}))?(\+08:00)?$/.exec(text);
  if (!match) throw new Error(`unexpected time ${text}`);
  const [, y, mo, d, h, mi, s, fraction] = match;
  return (
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) -
    8 * 3_600_000 +
    Math.floor(Number(fraction ?? '0') / 10_000)
  );
}

const FORMAT_SHAPES: Record<NonNullable<YoumiReadings['timeFormat']>, RegExp> = {
  space: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
  iso: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/,
  iso7: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+08:00$/,
  fraction7: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{7}$/,
  slash: /^\d{4}\/[1-9]\d?\/[1-9]\d? [12]?\d:\d{2}:\d{2}$/,
};

describe('Youmi emulator readings', () => {
  let youmi: YoumiUnderTest;
  beforeAll(async () => {
    youmi = await startYoumi('readings', { wechatIds: [10001], fansPerAccount: 6, chatsPerFan: 30, days: 10 });
  });
  afterAll(() => youmi.close());

  async function pageAll(body: Record<string, unknown>, pageSize: number): Promise<YoumiRawChat[]> {
    const chats: YoumiRawChat[] = [];
    for (let pageIndex = 1; ; pageIndex++) {
      const answer = await youmi.call('/v2/ChatMess/GetChat', {
        ...body,
        pageSize: String(pageSize),
        pageIndex: String(pageIndex),
      });
      expect(answer.succeed, answer.errdesc ?? '').toBe(true);
      const page = answer.values as YoumiRawChat[];
      chats.push(...page);
      if (page.length < pageSize) return chats;
    }
  }

  it('given any reading of order, cursor, bounds and format, when a fan is paged by pageIndex, then the pages hold exactly the chats that reading keeps', async () => {
    const fans = youmi.info.fans(10001).map((fan) => fan.fansKey);
    const windowStart = Math.floor(YOUMI_TEST_START / 1000) - 10 * 86_400;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          chatOrder: fc.constantFrom('id', 'time', 'time-desc'),
          minChattingId: fc.constantFrom('exclusive', 'inclusive'),
          startBound: fc.constantFrom('inclusive', 'exclusive'),
          endBound: fc.constantFrom('inclusive', 'exclusive'),
          timeFormat: fc.constantFrom('space', 'iso', 'iso7', 'fraction7', 'slash'),
        } as const),
        fc.constantFrom(...fans),
        fc.integer({ min: windowStart, max: windowStart + 10 * 86_400 }),
        fc.integer({ min: 0, max: 5 * 86_400 }),
        fc.integer({ min: 1, max: 25 }),
        fc.nat(),
        async (readings, fansKey, startTimestamp, length, pageSize, cursorPick) => {
          youmi.info.setReadings(readings);
          const endTimestamp = startTimestamp + length;
          const all = youmi.info.expectedChats({
            wechatId: 10001,
            fansKey,
            from: new Date(0),
            to: new Date(YOUMI_TEST_START),
          });
          const cursor = all.length === 0 ? 0 : (all[cursorPick % all.length] as YoumiRawChat).ad_chatting_id;
          const kept = all.filter((chat) => {
            const time = timeOf(chat.ad_chatting_time);
            const afterStart =
              readings.startBound === 'inclusive' ? time >= startTimestamp * 1000 : time > startTimestamp * 1000;
            const beforeEnd =
              readings.endBound === 'inclusive' ? time <= endTimestamp * 1000 : time < endTimestamp * 1000;
            const aboveCursor =
              cursor === 0 ||
              (readings.minChattingId === 'exclusive' ? chat.ad_chatting_id > cursor : chat.ad_chatting_id >= cursor);
            return afterStart && beforeEnd && aboveCursor;
          });
          const received = await pageAll(
            { wechatId: 10001, fansKey, startTimestamp, endTimestamp, minChattingId: cursor },
            pageSize,
          );
          expect([...received].sort((a, b) => a.ad_chatting_id - b.ad_chatting_id)).toEqual(kept);
          for (const chat of received) expect(chat.ad_chatting_time).toMatch(FORMAT_SHAPES[readings.timeFormat]);
          const times = received.map((chat) => timeOf(chat.ad_chatting_time));
          const ids = received.map((chat) => chat.ad_chatting_id);
          const sorted = (values: number[], direction: 1 | -1) =>
            values.every((value, index) => index === 0 || direction * (value - (values[index - 1] as number)) >= 0);
          if (readings.chatOrder === 'id') expect(sorted(ids, 1)).toBe(true);
          if (readings.chatOrder === 'time') expect(sorted(times, 1)).toBe(true);
          if (readings.chatOrder === 'time-desc') expect(sorted(times, -1)).toBe(true);
        },
      ),
      { numRuns: 60, seed: 1802 },
    );
    youmi.info.setReadings({
      chatOrder: 'id',
      minChattingId: 'exclusive',
      startBound: 'inclusive',
      endBound: 'inclusive',
      timeFormat: 'space',
    });
  });

  it('given formats with fraction digits, then chats have sub-second times the ground truth shares', () => {
    youmi.info.setReadings({ timeFormat: 'fraction7' });
    const chats = youmi.info.expectedChats({ wechatId: 10001, from: new Date(0), to: new Date(YOUMI_TEST_START) });
    expect(chats.some((chat) => !chat.ad_chatting_time.endsWith('.0000000'))).toBe(true);
    youmi.info.setReadings({ timeFormat: 'space' });
  });

  it('given form encoding, then resvred writes spaces as + and pluses as %2B; percent writes %20', () => {
    const withSpaces = (chats: YoumiRawChat[]) =>
      chats.filter((chat) => chat.ad_chatting_resvred !== null && /%20|\+/.test(chat.ad_chatting_resvred));
    const range = { wechatId: 10001, from: new Date(0), to: new Date(YOUMI_TEST_START) };
    youmi.info.setReadings({ resvredEncoding: 'form' });
    const form = withSpaces(youmi.info.expectedChats(range));
    youmi.info.setReadings({ resvredEncoding: 'percent' });
    const percent = withSpaces(youmi.info.expectedChats(range));
    expect(form.length).toBeGreaterThan(0);
    for (const chat of form) expect(chat.ad_chatting_resvred).not.toContain('%20');
    for (const chat of percent) expect(chat.ad_chatting_resvred).not.toContain('+');
    const decodeForm = (text: string) => JSON.parse(decodeURIComponent(text.replace(/\+/g, ' ')));
    expect(form.map((chat) => decodeForm(chat.ad_chatting_resvred as string))).toEqual(
      percent.map((chat) => JSON.parse(decodeURIComponent(chat.ad_chatting_resvred as string))),
    );
  });
});

describe('Youmi emulator ids and late uploads', () => {
  it('given chatIds fan, then each fan has ids of its own that are not in time order across fans', async () => {
    const youmi = await startYoumi('fan-ids', {
      wechatIds: [10001],
      fansPerAccount: 5,
      chatsPerFan: 20,
      chatIds: 'fan',
    });
    try {
      const chats = youmi.info.expectedChats({ wechatId: 10001, from: new Date(0), to: new Date(YOUMI_TEST_START) });
      const byId = [...chats].sort((a, b) => a.ad_chatting_id - b.ad_chatting_id);
      const times = byId.map((chat) => chat.ad_chatting_time);
      expect(times).not.toEqual([...times].sort());
      for (const fan of youmi.info.fans(10001)) {
        const own = byId.filter((chat) => chat.ad_chatting_talter === fan.fansKey);
        expect(own.map((chat) => chat.ad_chatting_time)).toEqual(own.map((chat) => chat.ad_chatting_time).sort());
      }
    } finally {
      await youmi.close();
    }
  });

  it.each(['time', 'fan'] as const)(
    'given chatIds %s and a late upload, when the clock reaches its arrival, then it appears with an old time and an id above every chat of its fan',
    async (chatIds) => {
      const youmi = await startYoumi('late', { wechatIds: [10001], fansPerAccount: 4, chatsPerFan: 10, chatIds });
      try {
        const fansKey = youmi.info.fans(10001)[1]?.fansKey as string;
        const oldTime = YOUMI_TEST_START - 3 * DAY;
        const range = { wechatId: 10001, fansKey, from: new Date(0), to: new Date(YOUMI_TEST_START) };
        const before = youmi.info.expectedChats(range);
        youmi.info.addLateUpload({
          wechatId: 10001,
          fansKey,
          time: oldTime,
          arriveAt: youmi.now() + 60_000,
          content: '补传',
        });
        expect(youmi.info.expectedChats(range)).toEqual(before);
        expect(
          (await youmi.call('/v2/ChatMess/GetChat', { wechatId: 10001, fansKey, pageSize: '100', pageIndex: '1' }))
            .values,
        ).toEqual(before);
        youmi.advance(60_000);
        const after = youmi.info.expectedChats(range);
        const late = after.find((chat) => chat.ad_chatting_content === '补传') as YoumiRawChat;
        expect(after).toHaveLength(before.length + 1);
        expect(timeOf(late.ad_chatting_time)).toBe(oldTime);
        expect(late.ad_chatting_id).toBeGreaterThan(Math.max(...before.map((chat) => chat.ad_chatting_id)));
        // A chat written after the late upload arrived has a larger id still.
        const sent = await youmi.call('/v2/ChatMess/doSendPublicMes', {
          WechatId: 10001,
          ToUserName: fansKey,
          RelationType: 0,
          MsgType: 'text',
          Text: '之后',
        });
        expect(sent.succeed).toBe(true);
        const newest = youmi.info.expectedChats({ ...range, to: new Date(youmi.now()) }).at(-1) as YoumiRawChat;
        expect(newest.ad_chatting_content).toBe('之后');
        expect(newest.ad_chatting_id).toBeGreaterThan(late.ad_chatting_id);
      } finally {
        await youmi.close();
      }
    },
  );

  it('given lateUploads 5, then five old chats per account arrive within the window, in arrival order of ids', async () => {
    const youmi = await startYoumi('seeded-late', {
      wechatIds: [10001],
      fansPerAccount: 4,
      chatsPerFan: 10,
      lateUploads: 5,
      lateUploadWindowMs: 60_000,
    });
    try {
      const range = { wechatId: 10001, from: new Date(0), to: new Date(YOUMI_TEST_START) };
      const before = youmi.info.expectedChats(range).length;
      youmi.advance(60_000);
      const late = youmi.info.expectedChats(range).filter((chat) => chat.ad_chatting_content.startsWith('补传的消息'));
      expect(late).toHaveLength(5);
      expect(youmi.info.expectedChats(range)).toHaveLength(before + 5);
    } finally {
      await youmi.close();
    }
  });
});
