import { FormData, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import { call, customersOf, tokenFor } from './wechat-support.js';

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
let emulator: RunningEmulator;
let token: string;

beforeEach(async () => {
  emulator = await startEmulator({ seed: 'kefu-api', now: NOW, wechat: { agentsPerAccount: 3, customers: 40 } });
  token = await tokenFor(emulator);
});
afterEach(async () => {
  await emulator.stop();
});

const get = (path: string, query: Record<string, string> = {}) => call(emulator, 'GET', path, { token, query });
const post = (path: string, json: unknown) => call(emulator, 'POST', path, { token, json });
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

async function uploadAvatar(kfAccount: string, bytes: Uint8Array, name: string, field = 'media') {
  const form = new FormData();
  form.append(field, new Blob([bytes]), name);
  const url = new URL('/customservice/kfaccount/uploadheadimg', emulator.wechat.baseUrl);
  url.searchParams.set('access_token', token);
  url.searchParams.set('kf_account', kfAccount);
  const response = await request(url, { method: 'POST', body: form });
  return JSON.parse(await response.body.text());
}

describe('WeChat agents', () => {
  it('given a seeded account, then getkflist lists bound agents and getonlinekflist the online ones', async () => {
    const list = (await get('/cgi-bin/customservice/getkflist')).body.kf_list;
    expect(list.map((agent: { kf_account: string }) => agent.kf_account)).toEqual([
      'kf1001@kefuemu1',
      'kf1002@kefuemu1',
      'kf1003@kefuemu1',
    ]);
    expect(list[0]).toMatchObject({ kf_id: '1001', kf_wx: expect.stringMatching(/^wxid_/) });
    const online = (await get('/cgi-bin/customservice/getonlinekflist')).body.kf_online_list;
    expect(online.map((agent: { kf_account: string }) => agent.kf_account)).toEqual([
      'kf1001@kefuemu1',
      'kf1002@kefuemu1',
    ]);
    expect(online[0]).toMatchObject({ status: 1, kf_id: 1001 });
    expect(online[0].accepted_case).toBeGreaterThan(0);
  });

  it('given add, update and delete (GET and POST forms), then the list follows', async () => {
    expect(
      (await post('/customservice/kfaccount/add', { kf_account: 'new_1@kefuemu1', nickname: '新人', password: 'md5' }))
        .body,
    ).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(
      (await post('/customservice/kfaccount/update', { kf_account: 'new_1@kefuemu1', nickname: '新人二号' })).body
        .errcode,
    ).toBe(0);
    let list = (await get('/cgi-bin/customservice/getkflist')).body.kf_list;
    expect(list.at(-1)).toMatchObject({ kf_account: 'new_1@kefuemu1', kf_nick: '新人二号', kf_id: '1004' });
    expect(list.at(-1).kf_wx).toBeUndefined();
    expect((await get('/customservice/kfaccount/del', { kf_account: 'new_1@kefuemu1' })).body.errcode).toBe(0);
    expect((await post('/customservice/kfaccount/del', { kf_account: 'kf1003@kefuemu1' })).body.errcode).toBe(0);
    list = (await get('/cgi-bin/customservice/getkflist')).body.kf_list;
    expect(list).toHaveLength(2);
    expect((await post('/customservice/kfaccount/del', { kf_account: 'kf1003@kefuemu1' })).body.errcode).toBe(65401);
  });

  it('given bad accounts, nicknames, duplicates or the 100-agent limit, then add answers 65404, 65403, 65406, 65405', async () => {
    const add = (kf_account: string, nickname = 'ok') => post('/customservice/kfaccount/add', { kf_account, nickname });
    expect((await add('no-at-sign')).body.errcode).toBe(65404);
    expect((await add('x@otheraccount')).body.errcode).toBe(65404);
    expect((await add('prefix_too_long@kefuemu1')).body.errcode).toBe(65404);
    expect((await add('ok@kefuemu1', '')).body.errcode).toBe(65403);
    expect((await add('ok@kefuemu1', '一二三四五六七八九十一二三四五六七')).body.errcode).toBe(65403);
    expect((await add('ok@kefuemu1', '一二三四五六七八九十一二三四五六')).body.errcode).toBe(0);
    expect((await add('ok@kefuemu1')).body.errcode).toBe(65406);
    expect(
      (await post('/customservice/kfaccount/update', { kf_account: 'ghost@kefuemu1', nickname: 'x' })).body.errcode,
    ).toBe(65401);
    for (let i = 0; i < 96; i++) expect((await add(`a${i}@kefuemu1`)).body.errcode).toBe(0);
    expect((await add('last@kefuemu1')).body.errcode).toBe(65405);
  });

  it('given an invitation, then the agent is waiting, then bound and online once accepted', async () => {
    await post('/customservice/kfaccount/add', { kf_account: 'inv@kefuemu1', nickname: 'Invitee' });
    expect(
      (await post('/customservice/kfaccount/inviteworker', { kf_account: 'inv@kefuemu1', invite_wx: 'bad id' })).body
        .errcode,
    ).toBe(65409);
    expect(
      (await post('/customservice/kfaccount/inviteworker', { kf_account: 'inv@kefuemu1', invite_wx: 'zhang_san_88' }))
        .body.errcode,
    ).toBe(0);
    expect(
      (await post('/customservice/kfaccount/inviteworker', { kf_account: 'inv@kefuemu1', invite_wx: 'li_si_99x' })).body
        .errcode,
    ).toBe(65411);
    const waiting = (await get('/cgi-bin/customservice/getkflist')).body.kf_list.at(-1);
    expect(waiting).toMatchObject({ invite_wx: 'zhang_san_88', invite_status: 'waiting' });
    emulator.clock.advance(1000);
    const bound = (await get('/cgi-bin/customservice/getkflist')).body.kf_list.at(-1);
    expect(bound).toMatchObject({ kf_wx: 'zhang_san_88' });
    expect(bound.invite_status).toBeUndefined();
    expect(
      (await post('/customservice/kfaccount/inviteworker', { kf_account: 'inv@kefuemu1', invite_wx: 'zhang_san_88' }))
        .body.errcode,
    ).toBe(65412);
    const online = (await get('/cgi-bin/customservice/getonlinekflist')).body.kf_online_list;
    expect(online.map((agent: { kf_account: string }) => agent.kf_account)).toContain('inv@kefuemu1');
  });

  it('given avatars, then png/jpg up to 5 MB are accepted and other files answer 40005, 40009 or 41005', async () => {
    expect((await uploadAvatar('kf1001@kefuemu1', PNG, 'a.png')).errcode).toBe(0);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    expect((await uploadAvatar('kf1001@kefuemu1', jpeg, 'a.jpg')).errcode).toBe(0);
    expect((await uploadAvatar('kf1001@kefuemu1', Buffer.from('GIF89a....'), 'a.gif')).errcode).toBe(40005);
    const big = Buffer.alloc(5 * 1024 * 1024 + 1);
    PNG.copy(big);
    expect((await uploadAvatar('kf1001@kefuemu1', big, 'big.png')).errcode).toBe(40009);
    expect((await uploadAvatar('kf1001@kefuemu1', PNG, 'a.png', 'file')).errcode).toBe(41005);
    expect((await uploadAvatar('ghost@kefuemu1', PNG, 'a.png')).errcode).toBe(65401);
    const agent = (await get('/cgi-bin/customservice/getkflist')).body.kf_list[0];
    expect(agent.kf_headimgurl).toMatch(/wx_fmt=jpeg$/);
  });
});

describe('WeChat sessions', () => {
  it('given create, get, list and close, then the state stays consistent', async () => {
    const customers = await customersOf(emulator);
    const openid = customers[10]!.openid;
    expect((await get('/customservice/kfsession/getsession', { openid })).body).toMatchObject({
      kf_account: '',
      createtime: 0,
    });
    expect(
      (await post('/customservice/kfsession/create', { kf_account: 'kf1001@kefuemu1', openid })).body.errcode,
    ).toBe(0);
    // Creating it again with the same agent succeeds (documented).
    expect(
      (await post('/customservice/kfsession/create', { kf_account: 'kf1001@kefuemu1', openid })).body.errcode,
    ).toBe(0);
    expect(
      (await post('/customservice/kfsession/create', { kf_account: 'kf1002@kefuemu1', openid })).body.errcode,
    ).toBe(65414);
    const session = (await get('/customservice/kfsession/getsession', { openid })).body;
    expect(session).toMatchObject({ errcode: 0, kf_account: 'kf1001@kefuemu1', createtime: Math.floor(NOW / 1000) });
    const list = (await get('/customservice/kfsession/getsessionlist', { kf_account: 'kf1001@kefuemu1' })).body
      .sessionlist;
    expect(list.map((s: { openid: string }) => s.openid)).toContain(openid);
    expect((await post('/customservice/kfsession/close', { kf_account: 'kf1002@kefuemu1', openid })).body.errcode).toBe(
      65414,
    );
    expect((await post('/customservice/kfsession/close', { kf_account: 'kf1001@kefuemu1', openid })).body.errcode).toBe(
      0,
    );
    expect((await post('/customservice/kfsession/close', { kf_account: 'kf1001@kefuemu1', openid })).body.errcode).toBe(
      65413,
    );
    expect((await get('/customservice/kfsession/getsession', { openid })).body.kf_account).toBe('');
  });

  it('given an offline, unbound or unknown agent, or an unknown openid, then create answers 65415, 65402, 65401, 40003', async () => {
    const openid = (await customersOf(emulator))[11]!.openid;
    const create = (kf_account: string, id = openid) =>
      post('/customservice/kfsession/create', { kf_account, openid: id });
    expect((await create('kf1003@kefuemu1')).body.errcode).toBe(65415);
    await post('/customservice/kfaccount/add', { kf_account: 'fresh@kefuemu1', nickname: 'Fresh' });
    expect((await create('fresh@kefuemu1')).body.errcode).toBe(65402);
    expect((await create('ghost@kefuemu1')).body.errcode).toBe(65401);
    expect((await create('kf1001@kefuemu1', 'o_not_a_customer')).body.errcode).toBe(40003);
  });

  it('given the wait queue, then it lists the oldest waiting first, and a created session leaves the queue', async () => {
    const queue = (await get('/customservice/kfsession/getwaitcase')).body;
    expect(queue.count).toBe(queue.waitcaselist.length);
    expect(queue.count).toBeGreaterThan(0);
    const times = queue.waitcaselist.map((c: { latest_time: number }) => c.latest_time);
    expect(times).toEqual([...times].sort((a: number, b: number) => a - b));
    const first = queue.waitcaselist[0].openid;
    await post('/customservice/kfsession/create', { kf_account: 'kf1002@kefuemu1', openid: first });
    const after = (await get('/customservice/kfsession/getwaitcase')).body;
    expect(after.count).toBe(queue.count - 1);
    expect(after.waitcaselist.map((c: { openid: string }) => c.openid)).not.toContain(first);
  });

  it('given more than 100 customers waiting, then getwaitcase returns the 100 oldest and the full count', async () => {
    const big = await startEmulator({ seed: 'queue', now: NOW, wechat: { customers: 150 } });
    try {
      const account = big.wechat.accounts[0]!;
      const customers = await customersOf(big);
      for (const customer of customers.slice(0, 120)) {
        big.clock.advance(1000);
        await call(big, 'POST', '/__emulator/wechat/customer-message', {
          json: { appid: account.appId, openid: customer.openid },
        });
      }
      const queue = (await call(big, 'GET', '/customservice/kfsession/getwaitcase', { token: await tokenFor(big) }))
        .body;
      expect(queue.waitcaselist).toHaveLength(100);
      expect(queue.count).toBeGreaterThan(100);
    } finally {
      await big.stop();
    }
  });
});

describe('WeChat send message and typing', () => {
  const recent = async () => (await customersOf(emulator))[12]!.openid;
  const send = (json: unknown) => post('/cgi-bin/message/custom/send', json);

  it('given every documented message type, then each valid payload is accepted', async () => {
    const touser = await recent();
    const payloads: Record<string, unknown> = {
      text: { content: 'hi 👋' },
      image: { media_id: 'M1' },
      voice: { media_id: 'M2' },
      mpnews: { media_id: 'M3' },
      video: { media_id: 'M4', thumb_media_id: 'T4', title: 't', description: 'd' },
      music: { title: 't', description: 'd', musicurl: 'http://m', hqmusicurl: 'http://hq', thumb_media_id: 'T5' },
      news: { articles: [{ title: 't', description: 'd', url: 'http://u', picurl: 'http://p' }] },
      mpnewsarticle: { article_id: 'A1' },
      msgmenu: { head_content: '满意吗', list: [{ id: '101', content: '满意' }], tail_content: '谢谢' },
      wxcard: { card_id: 'C1' },
      miniprogrampage: { title: 't', appid: 'wxapp', pagepath: 'pages/index', thumb_media_id: 'T6' },
    };
    for (const [msgtype, payload] of Object.entries(payloads)) {
      // The per-interaction limit is 5: the customer writes again before each pair.
      await call(emulator, 'POST', '/__emulator/wechat/customer-message', {
        json: { appid: emulator.wechat.accounts[0]!.appId, openid: touser },
      });
      const answer = await send({
        touser,
        msgtype,
        [msgtype]: payload,
        customservice: { kf_account: 'kf1001@kefuemu1' },
      });
      expect([msgtype, answer.body.errcode]).toEqual([msgtype, 0]);
    }
  });

  it('given invalid payloads, then it answers 47001, 40008, 45008, 40003 or 65401', async () => {
    const touser = await recent();
    expect((await send({ touser, msgtype: 'text', text: {} })).body.errcode).toBe(47001);
    expect((await send({ touser, msgtype: 'video', video: { media_id: 'M' } })).body.errcode).toBe(47001);
    expect((await send({ touser, msgtype: 'hologram', hologram: {} })).body.errcode).toBe(40008);
    const article = { title: 't', url: 'http://u' };
    expect((await send({ touser, msgtype: 'news', news: { articles: [article, article] } })).body.errcode).toBe(45008);
    expect((await send({ touser: 'o_nobody', msgtype: 'text', text: { content: 'x' } })).body.errcode).toBe(40003);
    const ghost = { touser, msgtype: 'text', text: { content: 'x' }, customservice: { kf_account: 'ghost@kefuemu1' } };
    expect((await send(ghost)).body.errcode).toBe(65401);
  });

  it('given a customer silent for more than 48 h, then sending answers 45015 until the customer writes', async () => {
    const customers = await customersOf(emulator);
    const now = Math.floor(emulator.clock.now() / 1000);
    const silent = customers.find((c) => now - c.last_message_time > 48 * 3600)!;
    const message = { touser: silent.openid, msgtype: 'text', text: { content: 'hello' } };
    expect((await send(message)).body.errcode).toBe(45015);
    await call(emulator, 'POST', '/__emulator/wechat/customer-message', {
      json: { appid: emulator.wechat.accounts[0]!.appId, openid: silent.openid },
    });
    expect((await send(message)).body.errcode).toBe(0);
    emulator.clock.advance(48 * 3600_000 + 1000);
    token = await tokenFor(emulator);
    expect((await send(message)).body.errcode).toBe(45015);
  });

  it('given 5 messages since the customer’s last message, then the 6th answers 45047', async () => {
    const message = { touser: await recent(), msgtype: 'text', text: { content: 'x' } };
    for (let i = 0; i < 5; i++) expect((await send(message)).body.errcode).toBe(0);
    expect((await send(message)).body.errcode).toBe(45047);
  });

  it('given typing, then it needs an exchange in the last 30 s, refuses a repeat for 15 s and bad commands', async () => {
    const touser = await recent();
    const typing = (command: string) => post('/cgi-bin/message/custom/typing', { touser, command });
    expect((await typing('Typing')).body.errcode).toBe(45080);
    await send({ touser, msgtype: 'text', text: { content: 'x' } });
    expect((await typing('Dancing')).body.errcode).toBe(45072);
    expect((await typing('Typing')).body.errcode).toBe(0);
    expect((await typing('Typing')).body.errcode).toBe(45081);
    emulator.clock.advance(15_000);
    expect((await typing('Typing')).body.errcode).toBe(0);
    expect((await typing('CancelTyping')).body.errcode).toBe(0);
    emulator.clock.advance(31_000);
    expect((await typing('Typing')).body.errcode).toBe(45080);
  });

  it('given a GET on a POST endpoint, then it answers 43002', async () => {
    expect((await get('/cgi-bin/message/custom/send')).body.errcode).toBe(43002);
  });
});
