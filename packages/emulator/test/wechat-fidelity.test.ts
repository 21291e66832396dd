import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import { call, tokenFor } from './wechat-support.js';

// Points found by driving independent WeChat client libraries against the emulator (issue 17).

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
const DAY_START = Date.UTC(2026, 0, 13, 16, 0, 0) / 1000;
const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
let emulator: RunningEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 'fidelity', now: NOW, wechat: { customers: 20 } });
  token = await tokenFor(emulator);
});
afterAll(async () => {
  await emulator.stop();
});

describe('WeChat error answers', () => {
  it('given any error, then errmsg ends with the request id " rid: <hex>-<hex>-<hex>", distinct per request', async () => {
    const answers = [
      await call(emulator, 'GET', '/cgi-bin/token', { query: { grant_type: 'client_credential', appid: 'wx0' } }),
      await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token: 'not-a-token' }),
      await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token: 'not-a-token' }),
      await call(emulator, 'POST', '/customservice/kfaccount/update', {
        token,
        json: { kf_account: 'x@y', nickname: 'n' },
      }),
    ];
    for (const answer of answers) {
      expect(answer.body.errcode).not.toBe(0);
      expect(answer.body.errmsg).toMatch(RID);
    }
    expect(answers[1]!.body.errmsg).not.toBe(answers[2]!.body.errmsg);
    const success = await call(emulator, 'GET', '/cgi-bin/customservice/getkflist', { token });
    expect(success.body.errmsg).toBeUndefined();
  });

  it('given an unknown path under /cgi-bin/ or /customservice/, then it answers HTTP 200 errcode 40066 invalid url, token or not', async () => {
    for (const path of ['/cgi-bin/customservice/nosuchcall', '/customservice/kfaccount/rename', '/cgi-bin']) {
      const answer = await call(emulator, 'POST', path, { token, json: {} });
      expect(answer.status).toBe(200);
      expect(answer.body.errcode).toBe(40066);
      expect(answer.body.errmsg).toMatch(/^invalid url/);
    }
    expect((await call(emulator, 'GET', '/cgi-bin/nosuchcall')).body.errcode).toBe(40066);
  });
});

describe('kfaccount/del forms', () => {
  afterAll(() => {
    emulator.wechat.setKnobs({ deleteAgent: 'both' });
  });
  const del = (method: 'GET' | 'POST', kf_account: string) =>
    method === 'GET'
      ? call(emulator, 'GET', '/customservice/kfaccount/del', { token, query: { kf_account } })
      : call(emulator, 'POST', '/customservice/kfaccount/del', { token, json: { kf_account } });

  it.each([
    ['both', 65401, 65401],
    ['post', 43002, 65401],
    ['get', 65401, 43001],
  ] as const)(
    'given deleteAgent %s, then GET answers %i and POST %i for an unknown agent',
    async (forms, get, post) => {
      emulator.wechat.setKnobs({ deleteAgent: forms });
      expect((await del('GET', 'nobody@kefuemu1')).body.errcode).toBe(get);
      expect((await del('POST', 'nobody@kefuemu1')).body.errcode).toBe(post);
    },
  );
});

describe('getmsglist validation order', () => {
  const msgList = (body: unknown) =>
    call(emulator, 'POST', '/customservice/msgrecord/getmsglist', { token, json: body });

  it('given several faults at once, then it answers in API-NOTES order: JSON 47001, fields 65416, number 65416, range order 65416, 24 h 65417', async () => {
    const tooLong = { starttime: DAY_START, endtime: DAY_START + 90_000 };
    const garbage = await call(emulator, 'POST', '/customservice/msgrecord/getmsglist', { token, rawBody: '{' });
    expect(garbage.body.errcode).toBe(47001);
    // Without number and msgid (wechat-api defaults only msgid), the missing fields come first.
    expect((await msgList(tooLong)).body.errcode).toBe(65416);
    expect((await msgList({ ...tooLong, msgid: 1 })).body.errcode).toBe(65416);
    expect((await msgList({ ...tooLong, msgid: 1, number: 0 })).body.errcode).toBe(65416);
    expect(
      (await msgList({ starttime: DAY_START, endtime: DAY_START - 90_000, msgid: 1, number: 5 })).body.errcode,
    ).toBe(65416);
    expect((await msgList({ ...tooLong, msgid: 1, number: 5 })).body.errcode).toBe(65417);
  });
});
