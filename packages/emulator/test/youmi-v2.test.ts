import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { YOUMI_ERRMSG, type YoumiRawChat, youmiRawChatSchema } from '../src/youmi/index.js';
import { startYoumi, YOUMI_TEST_START, type YoumiUnderTest } from './youmi-support.js';

// Every path, method and body here is platforms/youmi-api.md §2, verbatim.

let youmi: YoumiUnderTest;
beforeAll(async () => {
  youmi = await startYoumi('v2-test', { wechatIds: [10001, 10002], fansPerAccount: 6, chatsPerFan: 12 });
});
afterAll(() => youmi.close());

const fanOf = (index = 0, wechatId = 10001) => youmi.info.fans(wechatId)[index]?.fansKey as string;

describe('Youmi 获取商户TOKEN: POST /connect/token (§1.1)', () => {
  it('given client_id, client_secret, scope Ls.Qkl.PublicApi and grant_type client_credentials, then an OAuth2 token answer', async () => {
    const answer = await youmi.fetchToken({
      client_id: youmi.info.clientId,
      client_secret: youmi.info.clientSecret,
      scope: 'Ls.Qkl.PublicApi',
      grant_type: 'client_credentials',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      expires_in: 7200,
      token_type: 'Bearer',
      scope: 'Ls.Qkl.PublicApi',
    });
  });

  it('given the fixed values left out (all four are marked optional), then a token still', async () => {
    const answer = await youmi.fetchToken({ client_id: youmi.info.clientId, client_secret: youmi.info.clientSecret });
    expect(answer.status).toBe(200);
  });

  it('given a wrong secret, another scope or grant type, or a JSON body, then HTTP 400 with an OAuth2 error', async () => {
    const base = { client_id: youmi.info.clientId, client_secret: youmi.info.clientSecret };
    expect((await youmi.fetchToken({ ...base, client_secret: 'wrong-secret' })).body).toMatchObject({
      error: 'invalid_client',
    });
    expect((await youmi.fetchToken({ ...base, scope: 'openapi' })).body).toMatchObject({ error: 'invalid_scope' });
    expect((await youmi.fetchToken({ ...base, grant_type: 'password' })).body).toMatchObject({
      error: 'unsupported_grant_type',
    });
    const json = await request(youmi.info.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(base),
    });
    expect(json.statusCode).toBe(400);
    await json.body.text();
  });
});

describe('Youmi v2 authentication (§1.1) and the token-invalid readings', () => {
  afterEach(async () => {
    youmi.info.setReadings({ v2TokenRejection: 'errmsg' });
    youmi.setBearer(await youmi.token());
  });

  it('given a bad or expired bearer, then errmsg 10003 (令牌失效) with HTTP 200 under the default reading', async () => {
    youmi.setBearer('not-a-token');
    const answer = await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ succeed: false, errmsg: YOUMI_ERRMSG.tokenInvalid });
  });

  it('given the http401 reading, then a bad bearer is a bare HTTP 401 with WWW-Authenticate', async () => {
    youmi.info.setReadings({ v2TokenRejection: 'http401' });
    youmi.setBearer('not-a-token');
    const answer = await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET');
    expect(answer.status).toBe(401);
    expect(answer.text).toBe('');
    expect(answer.headers['www-authenticate']).toContain('invalid_token');
  });

  it('given revokeTokens(), then every issued token is refused until a new one is fetched', async () => {
    expect((await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET')).body.succeed).toBe(true);
    expect(youmi.info.revokeTokens()).toBeGreaterThan(0);
    expect((await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET')).body.errmsg).toBe(10003);
    youmi.setBearer(await youmi.token());
    expect((await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET')).body.succeed).toBe(true);
  });

  it('given a known TenantId it answers; an unknown one is refused', async () => {
    const ok = await youmi.raw('/v2/System/GetDepartList', undefined, { tenantid: youmi.info.tenantId }, 'GET');
    expect(ok.body.succeed).toBe(true);
    const refused = await youmi.raw('/v2/System/GetDepartList', undefined, { tenantid: 'T-other' }, 'GET');
    expect(refused.body).toMatchObject({ succeed: false, errmsg: YOUMI_ERRMSG.badParameters });
  });
});

describe('Youmi v2 envelope and routes', () => {
  it('then GetDepartList is a GET whose answer has the shape of the documented example', async () => {
    const answer = await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET');
    expect(answer.body).toEqual({
      requestId: expect.any(String),
      errmsg: 0,
      succeed: true,
      msgTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      values: expect.arrayContaining([{ departid: expect.any(Number), departname: expect.any(String) }]),
      errdesc: null,
    });
    expect((await youmi.raw('/v2/System/GetDepartList', '{}', {}, 'POST')).status).toBe(405);
  });

  it('then paths match case-insensitively; an unknown path is a bare 404', async () => {
    const lower = await youmi.call('/v2/chatmess/getchat/', {
      wechatId: 10001,
      fansKey: fanOf(),
      pageSize: '2',
      pageIndex: '1',
    });
    expect(lower.succeed).toBe(true);
    const unknown = await youmi.raw('/v2/ChatMess/terminateTakeOver', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('');
  });

  it.each([
    [{ wechatId: 10001, pageSize: '5', pageIndex: '1' }, 'fansKey: is required'],
    [{ fansKey: 'x', pageSize: '5', pageIndex: '1' }, 'wechatId: is required'],
    [{ wechatId: 10001, fansKey: 'x', pageSize: 5, pageIndex: '1' }, 'pageSize'],
    [
      { wechatId: 10001, fansKey: 'x', pageSize: '0', pageIndex: '1' },
      'pageSize: must be a string holding a positive integer',
    ],
    [{ wechatId: 10001, fansKey: 'x', pageSize: '5', pageIndex: '1', startTimestamp: 'yesterday' }, 'startTimestamp'],
  ])('given GetChat body %j, then errmsg 200012 (bad parameters) names the field (%s)', async (body, field) => {
    const answer = await youmi.call('/v2/ChatMess/GetChat', body);
    expect(answer).toMatchObject({ succeed: false, errmsg: YOUMI_ERRMSG.badParameters });
    expect(answer.errdesc).toContain(field);
  });

  it('given an unknown wechatId, then 200018; an unknown fansKey has no chats', async () => {
    expect(
      await youmi.call('/v2/ChatMess/GetChat', { wechatId: 999, fansKey: 'x', pageSize: '5', pageIndex: '1' }),
    ).toMatchObject({
      errmsg: YOUMI_ERRMSG.noSuchWechatId,
    });
    expect(
      await youmi.call('/v2/ChatMess/GetChat', {
        wechatId: 10001,
        fansKey: 'wxid_nobody',
        pageSize: '5',
        pageIndex: '1',
      }),
    ).toMatchObject({ succeed: true, values: [] });
  });

  it('then GetChat rows have the 17 fields of seed 002 and pageSize above 100 is capped', async () => {
    const big = await startYoumi('cap', { wechatIds: [10001], fansPerAccount: 1, chatsPerFan: 200 });
    try {
      const fansKey = big.info.fans(10001)[0]?.fansKey;
      const answer = await big.call('/v2/ChatMess/GetChat', {
        wechatId: 10001,
        fansKey,
        pageSize: '500',
        pageIndex: '1',
      });
      const rows = answer.values as YoumiRawChat[];
      expect(rows).toHaveLength(100);
      for (const row of rows) youmiRawChatSchema.parse(row);
    } finally {
      await big.close();
    }
  });
});

describe('Youmi v2 ChatMess actions (§2.1)', () => {
  it('given doSendPublicMes text in PascalCase, then it is a new chat of the fan with issend 1 and the highest id', async () => {
    const fansKey = fanOf(2);
    const before = youmi.info.expectedChats({ wechatId: 10001, fansKey, from: new Date(0), to: new Date(youmi.now()) });
    const answer = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      WechatId: '10001',
      ToUserName: fansKey,
      RelationType: 0,
      MsgType: 'text',
      Text: '您好 在的',
    });
    expect(answer).toMatchObject({ succeed: true, values: true });
    const after = youmi.info.expectedChats({ wechatId: 10001, fansKey, from: new Date(0), to: new Date(youmi.now()) });
    const sent = after.at(-1) as YoumiRawChat;
    expect(after).toHaveLength(before.length + 1);
    expect(sent).toMatchObject({ ad_chatting_issend: 1, ad_chatting_sate: 1, ad_chatting_content: '您好 在的' });
    expect(sent.ad_chatting_id).toBeGreaterThan(Math.max(...before.map((chat) => chat.ad_chatting_id)));
  });

  it('given an image with Url and Format, then an image chat; an unknown fan is 200009; text without Text is 200012', async () => {
    const image = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      WechatId: 10001,
      ToUserName: fanOf(2),
      RelationType: 0,
      MsgType: 'image',
      Url: 'https://example.com/a.png',
      Format: 'png',
    });
    expect(image.succeed).toBe(true);
    const unknown = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      WechatId: 10001,
      ToUserName: 'wxid_nobody',
      MsgType: 'text',
      Text: 'x',
    });
    expect(unknown.errmsg).toBe(YOUMI_ERRMSG.noSuchFriend);
    const noText = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      WechatId: 10001,
      ToUserName: fanOf(2),
      MsgType: 'text',
    });
    expect(noText.errmsg).toBe(YOUMI_ERRMSG.badParameters);
  });

  it('given applyTakeOver in snake_case, then the 12001 takeover message is in the chat', async () => {
    const fansKey = fanOf(3);
    const answer = await youmi.call('/v2/ChatMess/applyTakeOver', {
      friend_key: fansKey,
      apply_key: 'S1111',
      apply_name: '王店长',
      apply_reason: '大额订单',
      apply_source: 'QKB',
    });
    expect(answer.succeed).toBe(true);
    const last = youmi.info
      .expectedChats({ wechatId: 10001, fansKey, from: new Date(0), to: new Date(youmi.now()) })
      .at(-1);
    expect(last).toMatchObject({ ad_chatting_sate: 12001 });
    expect(JSON.parse(decodeURIComponent(last?.ad_chatting_resvred ?? ''))).toEqual({
      key: 'S1111',
      name: '王店长',
      reason: '大额订单',
    });
  });

  it('given ActivationConversation without enforceAttribution for a fan of another staff, then 200019; with it, the fan moves', async () => {
    const fan = youmi.info.fans(10001).find((candidate) => candidate.staffCode !== null) as {
      fansKey: string;
      staffCode: string;
    };
    const other = fan.staffCode === 'S1110' ? 'S1111' : 'S1110';
    const body = {
      ad_friend_wenober: fan.fansKey,
      ad_wechat_id: 10001,
      staff_code: other,
      content: '',
      activationType: 0,
      switchSession: 0,
    };
    expect(await youmi.call('/v2/ChatMess/ActivationConversation', { ...body, enforceAttribution: 0 })).toMatchObject({
      errmsg: YOUMI_ERRMSG.operationFailed,
    });
    expect(await youmi.call('/v2/ChatMess/ActivationConversation', { ...body, enforceAttribution: 1 })).toMatchObject({
      succeed: true,
    });
    expect(youmi.info.fans(10001).find((candidate) => candidate.fansKey === fan.fansKey)?.staffCode).toBe(other);
    expect(
      await youmi.call('/v2/ChatMess/ActivationConversation', {
        ...body,
        ad_wechat_id: undefined,
        enforceAttribution: 1,
      }),
    ).toMatchObject({
      errmsg: YOUMI_ERRMSG.accountIdMissing,
    });
  });
});

describe('Youmi v2 Report, System, Friend, Todo, Ad, BulkSend (§2.2–2.7)', () => {
  it('then GetDataByStaffCustomer needs orderType, show and staffState, and counts per staff', async () => {
    expect((await youmi.call('/v2/Report/GetDataByStaffCustomer', {})).errmsg).toBe(YOUMI_ERRMSG.badParameters);
    const answer = await youmi.call('/v2/Report/GetDataByStaffCustomer', {
      startDate: '2025-01-01 00:00:00',
      endDate: '2027-01-01 00:00:00',
      orderType: 'asc',
      show: 3,
      staffState: true,
      departId: -1,
      departGroupId: -1,
    });
    const rows = answer.values as Array<{ ad_staff_code: string; sendCount: number; receiveCount: number }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((sum, row) => sum + row.sendCount + row.receiveCount, 0)).toBeGreaterThan(0);
  });

  it('then GetActivationListByStaff takes the day (midnight seconds) and ad_departid as a string', async () => {
    const day = Math.floor(YOUMI_TEST_START / 86_400_000) * 86_400 - 8 * 3600;
    const answer = await youmi.call('/v2/Report/GetActivationListByStaff', { time: day, ad_departid: '-1' });
    expect(answer.succeed).toBe(true);
    expect((await youmi.call('/v2/Report/GetActivationListByStaff', { time: day })).errmsg).toBe(
      YOUMI_ERRMSG.badParameters,
    );
  });

  it('then departments → groups → staff are consistent (GetDepartGroupList, GetStaffList)', async () => {
    const departments = (await youmi.raw('/v2/System/GetDepartList', undefined, {}, 'GET')).body.values as Array<{
      departid: number;
    }>;
    const groups = (await youmi.call('/v2/System/GetDepartGroupList', { departId: -1 })).values as Array<{
      departid: number;
      departgroupid: number;
    }>;
    expect(new Set(groups.map((group) => group.departid))).toEqual(new Set(departments.map((d) => d.departid)));
    const all = (await youmi.call('/v2/System/GetStaffList', { departId: -1, departGroupId: -1, staffState: 1 }))
      .values as Array<{
      ad_staff_code: string;
      ad_departgroupid: number;
    }>;
    const valid = (await youmi.call('/v2/System/GetStaffList', { departId: -1, departGroupId: -1, staffState: 0 }))
      .values as unknown[];
    expect(all.length).toBeGreaterThanOrEqual(valid.length);
    const group = groups[0] as { departid: number; departgroupid: number };
    const ofGroup = (
      await youmi.call('/v2/System/GetStaffList', {
        departId: group.departid,
        departGroupId: group.departgroupid,
        staffState: 1,
      })
    ).values as typeof all;
    expect(ofGroup.every((staff) => staff.ad_departgroupid === group.departgroupid)).toBe(true);
    expect((await youmi.call('/v2/System/GetStaffList', { departId: -1 })).errmsg).toBe(YOUMI_ERRMSG.badParameters);
  });

  it.each(['relation', 'camel'] as const)(
    'given fansListShape %s, then GetFansList pages cover GetFansCount fans exactly',
    async (shape) => {
      youmi.info.setReadings({ fansListShape: shape });
      const keyField = shape === 'relation' ? 'ad_relation_talter' : 'fansKey';
      const count = (await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001, fansKe: '' })).values;
      const keys: string[] = [];
      for (let pageIndex = 1; ; pageIndex++) {
        const page = (await youmi.call('/v2/Friend/GetFansList', { wechatId: 10001, pageIndex, pageSize: 4 }))
          .values as Array<Record<string, string>>;
        keys.push(...page.map((row) => row[keyField] as string));
        if (page.length < 4) break;
      }
      expect(keys).toEqual(youmi.info.fans(10001).map((fan) => fan.fansKey));
      expect(count).toBe(keys.length);
      youmi.info.setReadings({ fansListShape: 'relation' });
    },
  );

  it('then GetFansCount requires fansKe (as documented) and counts one fan by it', async () => {
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).errmsg).toBe(YOUMI_ERRMSG.badParameters);
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001, fansKe: fanOf(1) })).values).toBe(1);
  });

  it('then Todo AddRecord / AddRecordNew (PascalCase) are listed and counted by GetChargeDaffaires*', async () => {
    const body = {
      Weixin: fanOf(1),
      SffId: 'S1110',
      RemindTitle: '回访',
      FollowupsiTuation: '已下单',
      RemindTime: '2026-01-16 10:00:00',
      IsAlways: 0,
      Recipient: ['S1110'],
    };
    expect((await youmi.call('/v2/Todo/AddRecord', body)).values).toBe(true);
    const id = (
      await youmi.call('/v2/Todo/AddRecordNew', {
        ...body,
        From: 0,
        AdWecharId: 0,
        LevelColor: '#f00',
        LevelName: '高',
        EventType: 0,
      })
    ).values;
    expect(id).toEqual(expect.any(Number));
    const list = (await youmi.call('/v2/Todo/GetChargeDaffairesList', { usersate: -1, pageIndex: 1, pageSize: 10 }))
      .values as Array<{ chargeDaffairesId: number }>;
    expect(list.map((todo) => todo.chargeDaffairesId)).toContain(id);
    expect((await youmi.call('/v2/Todo/GetChargeDaffairesCount', { usersate: -1 })).values).toBe(list.length);
    expect((await youmi.call('/v2/Todo/AddRecord', { Weixin: 'wxid_nobody' })).errmsg).toBe(YOUMI_ERRMSG.noSuchFriend);
  });

  it('then AdManage GetAdList needs name, pageIndex and pageSize, and its pages match GetAdCount', async () => {
    expect((await youmi.call('/v2/AdManage/GetAdList', { name: '' })).errmsg).toBe(YOUMI_ERRMSG.badParameters);
    expect((await youmi.call('/v2/AdManage/GetAdCount', {})).errmsg).toBe(YOUMI_ERRMSG.badParameters);
    const count = (await youmi.call('/v2/AdManage/GetAdCount', { name: '' })).values as number;
    const first = (await youmi.call('/v2/AdManage/GetAdList', { name: '', pageIndex: 1, pageSize: 10 }))
      .values as unknown[];
    const second = (await youmi.call('/v2/AdManage/GetAdList', { name: '', pageIndex: 2, pageSize: 10 }))
      .values as unknown[];
    expect(first.length + second.length).toBe(count);
  });

  it('then SaveBulkSendTask takes task_content [{data, type}] and answers a task id', async () => {
    const answer = await youmi.call('/v2/BulkSend/SaveBulkSendTask', {
      task_content: [{ type: '0', data: { content: '双11' } }],
    });
    expect(answer.values).toEqual(expect.stringMatching(/^RPA/));
    expect((await youmi.call('/v2/BulkSend/SaveBulkSendTask', { task_content: [] })).errmsg).toBe(
      YOUMI_ERRMSG.badParameters,
    );
  });
});

describe('Youmi v2 Public: registerCallbackUrl (type 100/200) and subscribeEvent (§2.8)', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: Record<string, unknown>; contentType: string | undefined }> = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          contentType: req.headers['content-type'],
        });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('given a URL registered with type 100, when a fan writes, then the chat event is POSTed there', async () => {
    expect((await youmi.call('/v2/Public/registerCallbackUrl', { url, type: 100 })).succeed).toBe(true);
    expect((await youmi.call('/v2/Public/registerCallbackUrl', { url, type: 'chat' })).errmsg).toBe(
      YOUMI_ERRMSG.badParameters,
    );
    received.length = 0;
    const chat = youmi.info.simulateFanMessage({ wechatId: 10001, fansKey: fanOf(4), content: '在吗' });
    await youmi.info.whenEventsDelivered();
    expect(received.map((event) => event.body)).toContainEqual(
      expect.objectContaining({ eventType: 'chat', merchantId: youmi.info.merchantId, values: chat }),
    );
  });

  it('given a subscription with appId and messageTypes, then only those events reach it, with its appId', async () => {
    const subscriber = `${url}-sub`;
    expect(
      (
        await youmi.call('/v2/Public/subscribeEvent', {
          url: subscriber,
          appId: 'app-1',
          messageTypes: ['rpaTaskResult'],
        })
      ).succeed,
    ).toBe(true);
    received.length = 0;
    await youmi.call('/v2/BulkSend/SaveBulkSendTask', { task_content: [{ type: '0', data: { content: 'x' } }] });
    await youmi.info.whenEventsDelivered();
    expect(received.map((event) => event.body)).toContainEqual(
      expect.objectContaining({ eventType: 'rpaTaskResult', appId: 'app-1' }),
    );
  });
});
