import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator, type WechatRawRecord } from '../src/index.js';
import { unescapeControlCharacters } from '../src/wechat/wechat-platform.js';
import { call, customersOf, readMsgListWindow, tokenFor } from './wechat-support.js';

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0); // 12:00 in Asia/Shanghai
const DAY_START = Date.UTC(2026, 0, 13, 16, 0, 0) / 1000; // 2026-01-14 00:00 Asia/Shanghai
let emulator: RunningEmulator;
let token: string;
let appId: string;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 'records', now: NOW, wechat: { recordsPerDay: 400, customers: 50 } });
  token = await tokenFor(emulator);
  appId = emulator.wechat.accounts[0]!.appId;
});
afterAll(async () => {
  await emulator.stop();
});

const msgList = (body: unknown) => call(emulator, 'POST', '/customservice/msgrecord/getmsglist', { token, json: body });
const record2015 = (body: unknown) =>
  call(emulator, 'POST', '/customservice/msgrecord/getrecord', { token, json: body });
const legacy = (body: unknown) => call(emulator, 'POST', '/cgi-bin/customservice/getrecord', { token, json: body });

/** Reads a whole window through getmsglist under the default reading, following the response msgid. */
async function readWindow(starttime: number, endtime: number, number: number): Promise<WechatRawRecord[]> {
  const { records, pages } = await readMsgListWindow(emulator, token, { starttime, endtime, number });
  for (const page of pages) expect(page.number).toBe(page.recordlist.length);
  return records;
}

const range = (start: number, end: number) => ({ appId, from: new Date(start * 1000), to: new Date(end * 1000) });

describe('WeChat getmsglist', () => {
  it('given a past day, when paging with the response msgid, then it returns exactly the ground truth in order', async () => {
    const records = await readWindow(DAY_START, DAY_START + 86_400, 97);
    const expected = emulator.wechat.expectedRecords(range(DAY_START, DAY_START + 86_400));
    expect(records.length).toBeGreaterThan(50);
    expect(records).toEqual(expected);
    const times = records.map((record) => record.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('given a day of records, then only 2002/2003 appear, with prefix@account workers and 28-char openids', async () => {
    const records = emulator.wechat.expectedRecords(range(DAY_START, DAY_START + 86_400));
    expect(new Set(records.map((record) => record.opercode))).toEqual(new Set([2002, 2003]));
    for (const record of records) {
      expect(record.worker).toMatch(/^kf\d+@kefuemu1$/);
      expect(record.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
      expect(record.time).toBeGreaterThanOrEqual(DAY_START);
      expect(record.time).toBeLessThan(DAY_START + 86_400);
    }
    const texts = emulator.wechat.expectedRecords(range(DAY_START - 5 * 86_400, DAY_START + 86_400)).map((r) => r.text);
    expect(texts).toContain('[image]');
    expect(texts.some((text) => /[\u4e00-\u9fff]/.test(text))).toBe(true);
    expect(texts.some((text) => [...text].some((ch) => ch.charCodeAt(0) < 0x20))).toBe(true);
  });

  it('given an unknown appId, then expectedRecords throws EMULATOR_UNKNOWN_ACCOUNT', () => {
    expect(() => emulator.wechat.expectedRecords({ ...range(DAY_START, DAY_START + 60), appId: 'wx0' })).toThrow(
      expect.objectContaining({ code: 'EMULATOR_UNKNOWN_ACCOUNT' }),
    );
  });

  it('given msgid past the last id, then recordlist is empty and msgid is 0', async () => {
    const answer = await msgList({ starttime: DAY_START, endtime: DAY_START + 3600, msgid: 2 ** 52, number: 10 });
    expect(answer.body).toEqual({ recordlist: [], number: 0, msgid: 0 });
  });

  it('given more than 24 h, then it answers 65417', async () => {
    const answer = await msgList({ starttime: DAY_START, endtime: DAY_START + 86_401, msgid: 1, number: 10 });
    expect(answer.body.errcode).toBe(65417);
  });

  it('given number 0 or 10001, a missing msgid, a reversed range or non-JSON, then it answers 65416 or 47001', async () => {
    const base = { starttime: DAY_START, endtime: DAY_START + 3600, msgid: 1, number: 10 };
    expect((await msgList({ ...base, number: 0 })).body.errcode).toBe(65416);
    expect((await msgList({ ...base, number: 10_001 })).body.errcode).toBe(65416);
    expect((await msgList({ ...base, number: 10_000 })).body.errcode).toBeUndefined();
    expect((await msgList({ starttime: DAY_START, endtime: DAY_START + 3600, number: 10 })).body.errcode).toBe(65416);
    expect((await msgList({ ...base, endtime: DAY_START })).body.errcode).toBe(65416);
    expect((await msgList({ ...base, starttime: 'yesterday' })).body.errcode).toBe(65416);
    const garbage = await call(emulator, 'POST', '/customservice/msgrecord/getmsglist', { token, rawBody: '{"a":' });
    expect(garbage.body.errcode).toBe(47001);
  });

  it('given the current day, then no record is later than the emulator clock', async () => {
    const today = DAY_START + 86_400;
    const records = await readWindow(today, today + 86_400, 10_000);
    expect(records.length).toBeGreaterThan(0);
    expect(Math.max(...records.map((record) => record.time))).toBeLessThanOrEqual(
      Math.floor(emulator.clock.now() / 1000),
    );
  });

  it('given the same seed, then another emulator serves the same records; another seed serves others', async () => {
    const twin = await startEmulator({ seed: 'records', now: NOW, wechat: { recordsPerDay: 400, customers: 50 } });
    const other = await startEmulator({ seed: 'other', now: NOW, wechat: { recordsPerDay: 400, customers: 50 } });
    try {
      const q = range(DAY_START, DAY_START + 86_400);
      expect(twin.wechat.expectedRecords(q)).toEqual(emulator.wechat.expectedRecords(q));
      const otherApp = other.wechat.accounts[0]!.appId;
      expect(other.wechat.expectedRecords({ ...q, appId: otherApp })).not.toEqual(emulator.wechat.expectedRecords(q));
    } finally {
      await twin.stop();
      await other.stop();
    }
  });

  it('given a message sent now, then getmsglist shows it as a 2002 record at the clock time', async () => {
    const [customer] = await customersOf(emulator);
    const send = await call(emulator, 'POST', '/cgi-bin/message/custom/send', {
      token,
      json: { touser: customer!.openid, msgtype: 'text', text: { content: '刚刚发送 ✅' } },
    });
    expect(send.body.errcode).toBe(0);
    const now = Math.floor(emulator.clock.now() / 1000);
    const records = await readWindow(now - 3600, now + 1, 10_000);
    expect(records.at(-1)).toMatchObject({ openid: customer!.openid, opercode: 2002, text: '刚刚发送 ✅' });
    expect(records).toEqual(emulator.wechat.expectedRecords(range(now - 3600, now + 1)));
  });
});

describe('WeChat run-time records', () => {
  it('given messages sent while the clock advances, then every page size reads them once, in time order, among the seeded ones', async () => {
    const live = await startEmulator({ seed: 'live', now: NOW, wechat: { recordsPerDay: 20_000, customers: 30 } });
    try {
      const liveToken = await tokenFor(live);
      const [customer] = await customersOf(live);
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) {
        await call(live, 'POST', '/__emulator/wechat/customer-message', {
          json: { appid: live.wechat.accounts[0]!.appId, openid: customer!.openid },
        });
        const content = `run-time ${i}`;
        const answer = await call(live, 'POST', '/cgi-bin/message/custom/send', {
          token: liveToken,
          json: { touser: customer!.openid, msgtype: 'text', text: { content }, extra_field: 'ignored' },
        });
        expect(answer.body.errcode).toBe(0);
        sent.push(content);
        live.clock.advance(7 * 60_000);
      }
      const end = Math.floor(live.clock.now() / 1000) + 1;
      const start = end - 3 * 3600;
      for (const number of [2, 7, 100, 10_000]) {
        const { records } = await readMsgListWindow(live, liveToken, { starttime: start, endtime: end, number });
        const times = records.map((record) => record.time);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(records.filter((record) => record.text.startsWith('run-time')).map((record) => record.text)).toEqual(
          sent,
        );
        expect(records).toEqual(
          live.wechat.expectedRecords({ ...range(start, end), appId: live.wechat.accounts[0]!.appId }),
        );
        expect(records.length).toBeGreaterThan(100);
      }
    } finally {
      await live.stop();
    }
  });
});

describe('WeChat getrecord (2015) and legacy getrecord', () => {
  const allOfDay = async (
    read: (body: unknown) => Promise<{ body: { recordlist: WechatRawRecord[] } }>,
    size: number,
  ) => {
    const out: WechatRawRecord[] = [];
    for (let pageindex = 1; ; pageindex++) {
      const page = await read({ starttime: DAY_START, endtime: DAY_START + 86_400, pagesize: size, pageindex });
      out.push(...page.body.recordlist);
      if (page.body.recordlist.length < size) return out;
    }
  };

  it('given a day, then both APIs page the same records, with session events interleaved, and their chat subset is getmsglist', async () => {
    const modern = await allOfDay(record2015, 50);
    const old = await allOfDay(legacy, 1000);
    expect(old).toEqual(modern);
    const codes = new Set(old.map((record) => record.opercode));
    for (const code of [1000, 1001, 1004, 2001, 2002, 2003]) expect(codes).toContain(code);
    const chat = old.filter((record) => record.opercode === 2002 || record.opercode === 2003);
    expect(chat).toEqual(emulator.wechat.expectedRecords(range(DAY_START, DAY_START + 86_400)));
  });

  it('given an openid, then only that customer’s records come back', async () => {
    const customer = emulator.wechat.expectedRecords(range(DAY_START, DAY_START + 86_400))[0];
    const page = await legacy({
      starttime: DAY_START,
      endtime: DAY_START + 86_400,
      openid: customer!.openid,
      pagesize: 1000,
      pageindex: 1,
    });
    expect(page.body.recordlist.length).toBeGreaterThan(0);
    for (const record of page.body.recordlist) expect(record.openid).toBe(customer!.openid);
    const expected = emulator.wechat.expectedRecords({
      ...range(DAY_START, DAY_START + 86_400),
      openid: customer!.openid,
    });
    expect(page.body.recordlist.filter((r: WechatRawRecord) => r.opercode >= 2002)).toEqual(expected);
  });

  it('given page sizes over 50 (2015) or 1000 (legacy), then they answer 65416', async () => {
    const body = { starttime: DAY_START, endtime: DAY_START + 3600, pageindex: 1 };
    expect((await record2015({ ...body, pagesize: 51 })).body.errcode).toBe(65416);
    expect((await record2015({ ...body, pagesize: 50 })).body.recordlist).toEqual(expect.any(Array));
    expect((await legacy({ ...body, pagesize: 1001 })).body.errcode).toBe(65416);
    expect((await legacy({ ...body, pagesize: 1000 })).body.recordlist).toEqual(expect.any(Array));
    expect((await legacy({ ...body, pagesize: 10, pageindex: 0 })).body.errcode).toBe(65416);
  });

  it('given a legacy range crossing midnight in Asia/Shanghai, then it answers 65417; the 2015 API accepts it', async () => {
    const crossing = { starttime: DAY_START - 3600, endtime: DAY_START + 3600, pagesize: 10, pageindex: 1 };
    expect((await legacy(crossing)).body.errcode).toBe(65417);
    expect((await record2015(crossing)).body.recordlist).toEqual(expect.any(Array));
    expect((await record2015({ ...crossing, endtime: crossing.starttime + 86_401 })).body.errcode).toBe(65417);
  });
});

describe('raw control characters', () => {
  it('given an escaped control character and an escaped backslash, then only the control escape becomes raw', () => {
    expect(unescapeControlCharacters(JSON.stringify({ text: 'a\u0007b\tc\\u0007d\\n' }))).toBe(
      '{"text":"a\u0007b\tc\\\\u0007d\\\\n"}',
    );
  });

  /**
   * One whole day's getmsglist answer from an emulator started with `wechat` options: the
   * body's text and the day's ground truth.
   */
  async function dayAnswer(wechat: { rawControlCharacters?: boolean; indentedRecordBodies?: boolean }) {
    const platform = await startEmulator({
      seed: 'records',
      now: NOW,
      wechat: { recordsPerDay: 400, customers: 50, ...wechat },
    });
    try {
      const accessToken = await tokenFor(platform);
      const start = DAY_START - 5 * 86_400;
      const response = await request(`${platform.url}/customservice/msgrecord/getmsglist?access_token=${accessToken}`, {
        method: 'POST',
        body: JSON.stringify({ starttime: start, endtime: start + 86_400, msgid: 1, number: 10_000 }),
      });
      const truth = platform.wechat.expectedRecords({
        appId: platform.wechat.accounts[0]!.appId,
        from: new Date(start * 1000),
        to: new Date((start + 86_400) * 1000),
      });
      return { text: await response.body.text(), truth };
    } finally {
      await platform.stop();
    }
  }

  it('given indentedRecordBodies, then record answers are indented JSON of the same records', async () => {
    const { text, truth } = await dayAnswer({ indentedRecordBodies: true });
    expect(text).toContain('},\n    {');
    expect(JSON.parse(text).recordlist).toEqual(truth);
  });

  it('given rawControlCharacters, then record bodies carry raw control bytes and parse to the ground truth when escaped', async () => {
    const { text, truth } = await dayAnswer({ rawControlCharacters: true });
    expect([...text].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    // What a defensive client does: escape raw control characters, then parse.
    const lenient = JSON.parse(
      [...text]
        .map((ch) => (ch.charCodeAt(0) < 0x20 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch))
        .join(''),
    );
    expect(lenient.recordlist).toEqual(truth);
  });
});
