import { isKefuError } from '@kefu/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RECORD_KNOBS,
  describeRecordReading,
  MSGID_BASE,
  type RunningEmulator,
  startEmulator,
  type WechatRecordKnobs,
  type WindowEntry,
  wechatRecordReadings,
} from '../src/index.js';
import { call, customersOf, type MsgListPage, readMsgListWindow, repeatsBoundary, tokenFor } from './wechat-support.js';

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0); // 12:00 in Asia/Shanghai
const DAY_START = Date.UTC(2026, 0, 13, 16, 0, 0) / 1000; // 2026-01-14 00:00 Asia/Shanghai
let emulator: RunningEmulator;
let token: string;
let appId: string;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 'readings', now: NOW, wechat: { recordsPerDay: 3000, customers: 50 } });
  token = await tokenFor(emulator);
  appId = emulator.wechat.accounts[0]!.appId;
});
afterAll(async () => {
  await emulator.stop();
});

const range = (start: number, end: number) => ({ appId, from: new Date(start * 1000), to: new Date(end * 1000) });
const msgList = (body: unknown) => call(emulator, 'POST', '/customservice/msgrecord/getmsglist', { token, json: body });

/** The msgid a reading answers for a page whose last record is `last`, asked for with `requested`. */
function expectedCursor(knobs: WechatRecordKnobs, requested: number, count: number, last: WindowEntry): number {
  if (knobs.msgidModel === 'position') return requested + count;
  return knobs.responseMsgid === 'last' ? last.msgid : last.msgid + 1;
}

/** Checks every page's records and cursor against the ground truth of the window. */
function checkPages(knobs: WechatRecordKnobs, pages: MsgListPage[], truth: WindowEntry[]): void {
  let next = 0;
  let requested = 1;
  pages.forEach((page, index) => {
    const repeated = index > 0 && repeatsBoundary(knobs) && page.recordlist.length > 0;
    const fresh = page.recordlist.slice(repeated ? 1 : 0);
    expect(fresh).toEqual(truth.slice(next, next + fresh.length).map((entry) => entry.record));
    next += fresh.length;
    const last = truth[next - 1];
    if (page.recordlist.length === 0 || !last) expect(page.msgid).toBe(0);
    else expect(page.msgid).toBe(expectedCursor(knobs, requested, page.recordlist.length, last));
    requested = page.msgid;
  });
  expect(next).toBe(truth.length);
}

describe('getmsglist msgids', () => {
  it('given two days of an account, then msgids ascend strictly across them, from a large base, with gaps', () => {
    const truth = emulator.wechat.expectedEntries(range(DAY_START - 86_400, DAY_START + 86_400));
    const ids = truth.map((entry) => entry.msgid);
    expect(ids.length).toBeGreaterThan(1000);
    expect(ids[0]).toBeGreaterThanOrEqual(MSGID_BASE);
    const steps = ids.slice(1).map((id, i) => id - (ids[i] as number));
    expect(Math.min(...steps)).toBeGreaterThan(0);
    expect(steps.filter((step) => step > 1).length).toBeGreaterThan(steps.length / 2);
    expect(ids.every(Number.isSafeInteger)).toBe(true);
  });

  it('given a window that starts mid-day, then its records keep the ids they have in the whole day', () => {
    const day = emulator.wechat.expectedEntries(range(DAY_START, DAY_START + 86_400));
    const afternoon = emulator.wechat.expectedEntries(range(DAY_START + 43_200, DAY_START + 86_400));
    expect(day.slice(day.length - afternoon.length)).toEqual(afternoon);
  });

  it('given customers writing and agents answering now, then their records get ids after the seeded ones of the same second, in arrival order', async () => {
    const live = await startEmulator({ seed: 'live-ids', now: NOW, wechat: { recordsPerDay: 86_400 * 3 } });
    try {
      const [customer] = await customersOf(live);
      const liveAppId = live.wechat.accounts[0]!.appId;
      for (const text of ['one', 'two', 'three']) {
        const answer = await call(live, 'POST', '/__emulator/wechat/customer-message', {
          json: { appid: liveAppId, openid: customer!.openid, text },
        });
        expect(answer.status).toBe(200);
      }
      const now = Math.floor(live.clock.now() / 1000);
      const truth = live.wechat.expectedEntries({
        appId: liveAppId,
        from: new Date((now - 5) * 1000),
        to: new Date((now + 1) * 1000),
      });
      const ids = truth.map((entry) => entry.msgid);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(truth.slice(-3).map((entry) => entry.record.text)).toEqual(['one', 'two', 'three']);
    } finally {
      await live.stop();
    }
  });

  it('given more run-time records in one second than liveRecordsPerSecond, then the emulator refuses with EMULATOR_ID_SPACE_EXHAUSTED', async () => {
    const tight = await startEmulator({ seed: 'tight', now: NOW, wechat: { liveRecordsPerSecond: 1 } });
    try {
      // Customer 10 is neither in a session nor queued: one message adds two records in the same
      // second (queued 1000, received 2001).
      const customer = (await customersOf(tight))[10];
      const refused = await call(tight, 'POST', '/__emulator/wechat/customer-message', {
        json: { appid: tight.wechat.accounts[0]!.appId, openid: customer!.openid },
      });
      expect(refused.status).toBe(500);
      expect(refused.body.error.code).toBe('EMULATOR_ID_SPACE_EXHAUSTED');
    } finally {
      await tight.stop();
    }
  });
});

describe.each(wechatRecordReadings().map((knobs) => [describeRecordReading(knobs), knobs] as const))(
  'getmsglist under the reading %s',
  (_name, knobs) => {
    beforeAll(() => {
      emulator.wechat.setRecordKnobs(knobs);
    });
    afterAll(() => {
      emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
    });

    it('given any window of at most 24 h and any page size, then the pages and their cursors match the ground truth (property)', async () => {
      // A page of 1 cannot advance when the boundary record is repeated: see the next test.
      const smallest = repeatsBoundary(knobs) ? 2 : 1;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: DAY_START - 3 * 86_400, max: DAY_START + 86_400 }),
          fc.integer({ min: 1, max: 86_400 }),
          fc.integer({ min: smallest, max: 400 }),
          async (start, length, number) => {
            const end = start + length;
            const { pages } = await readMsgListWindow(emulator, token, { starttime: start, endtime: end, number });
            const truth = emulator.wechat.expectedEntries(range(start, knobs.endtime === 'inclusive' ? end + 1 : end));
            checkPages(knobs, pages, truth);
          },
        ),
        { numRuns: 10, seed: 17 },
      );
    });

    it('given msgid past every id (or position), then the page is empty with msgid 0', async () => {
      const answer = await msgList({ starttime: DAY_START, endtime: DAY_START + 3600, msgid: 2 ** 52, number: 10 });
      expect(answer.body).toEqual({ recordlist: [], number: 0, msgid: 0 });
    });
  },
);

describe('getmsglist readings: edges', () => {
  afterAll(() => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
  });

  it('given the inclusive bound and the last id answered, then a page of 1 repeats the same record and msgid forever', async () => {
    emulator.wechat.setRecordKnobs({ msgidModel: 'global-id', continuation: 'inclusive', responseMsgid: 'last' });
    const first = await msgList({ starttime: DAY_START, endtime: DAY_START + 86_400, msgid: 1, number: 1 });
    const again = await msgList({
      starttime: DAY_START,
      endtime: DAY_START + 86_400,
      msgid: first.body.msgid,
      number: 1,
    });
    expect(again.body).toEqual(first.body);
  });

  it('given a record at exactly endtime, then only the inclusive endtime reading returns it', async () => {
    const [record] = emulator.wechat.expectedRecords(range(DAY_START + 7200, DAY_START + 86_400));
    const request = { starttime: record!.time - 3600, endtime: record!.time, msgid: 1, number: 10_000 };
    emulator.wechat.setRecordKnobs({ endtime: 'exclusive' });
    expect((await msgList(request)).body.recordlist).not.toContainEqual(record);
    emulator.wechat.setRecordKnobs({ endtime: 'inclusive' });
    expect((await msgList(request)).body.recordlist).toContainEqual(record);
  });

  it('given number "requested", then a short page answers the number asked for, not the records returned', async () => {
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, number: 'requested' });
    const answer = await msgList({ starttime: DAY_START, endtime: DAY_START + 600, msgid: 1, number: 10_000 });
    expect(answer.body.recordlist.length).toBeLessThan(10_000);
    expect(answer.body.number).toBe(10_000);
  });

  it.each([
    ['stall', (request: number) => request],
    ['missing', () => 0],
    ['backwards', (request: number) => request - 1],
  ] as const)(
    'given cursorFault %s, then full pages answer that cursor and short pages stay right',
    async (fault, cursor) => {
      emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, cursorFault: fault });
      const window = { starttime: DAY_START, endtime: DAY_START + 86_400 };
      const truth = emulator.wechat.expectedEntries(range(DAY_START, DAY_START + 86_400));
      const requested = truth[10]!.msgid;
      const full = await msgList({ ...window, msgid: requested, number: 5, ignoredField: true });
      expect(full.body.recordlist).toHaveLength(5);
      expect(full.body.msgid).toBe(cursor(requested));
      const short = await msgList({ ...window, msgid: truth.at(-2)!.msgid, number: 5 });
      expect(short.body.recordlist).toHaveLength(2);
      expect(short.body.msgid).toBe(truth.at(-1)!.msgid);
    },
  );

  it('given exclusive continuation with the next id answered, then the options are refused as no reading of the docs', async () => {
    const refused = startEmulator({ wechat: { records: { continuation: 'exclusive', responseMsgid: 'next' } } });
    await expect(refused).rejects.toSatisfy(
      (error) => isKefuError(error) && error.code === 'EMULATOR_OPTIONS_INVALID' && /skip/.test(error.message),
    );
    expect(() => emulator.wechat.setRecordKnobs({ continuation: 'exclusive', responseMsgid: 'next' })).toThrow(
      /skip the record/,
    );
    expect(() => emulator.wechat.setRecordKnobs({ endtime: 'sometimes' as never })).toThrow(/wechat\.records\.endtime/);
  });

  it('given uniformDays, then every seeded day has exactly recordsPerDay records', async () => {
    const flat = await startEmulator({ seed: 'flat', now: NOW, wechat: { recordsPerDay: 1635, uniformDays: true } });
    try {
      const flatAppId = flat.wechat.accounts[0]!.appId;
      for (let day = 1; day <= 5; day++) {
        const start = DAY_START - day * 86_400;
        const records = flat.wechat.expectedRecords({
          appId: flatAppId,
          from: new Date(start * 1000),
          to: new Date((start + 86_400) * 1000),
        });
        // 1635 records of every opercode: 163 sessions of ten and five more, 980 chat messages.
        expect(records).toHaveLength(980);
      }
    } finally {
      await flat.stop();
    }
  });
});
