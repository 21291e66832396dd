import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultOptions, startEmulator } from '../src/index.js';
import {
  YOUMI_ERRMSG,
  type YoumiEmulatorOptions,
  type YoumiRawChat,
  type YoumiRawFan,
  youmiRawChatSchema,
} from '../src/youmi/index.js';

const START = Date.UTC(2026, 0, 15, 4, 30, 0);

interface Envelope {
  requestId: null;
  errmsg: number;
  succeed: boolean;
  msgTime: string;
  values: unknown;
  errdesc: string | null;
}

/** The emulator (both platforms on one server) with the clock starting at START; Youmi driven through undici. */
async function startYoumi(youmi: YoumiEmulatorOptions = {}) {
  const emulator = await startEmulator({ seed: 'v2-test', now: START, youmi });
  const info = emulator.youmi;
  const fetchToken = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await request(info.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };
  const token = async () =>
    (
      await fetchToken({
        grant_type: 'client_credentials',
        client_id: info.clientId,
        client_secret: info.clientSecret,
        scope: 'openapi',
      })
    ).body.access_token as string;
  let bearer = await token();
  const raw = async (
    path: string,
    body: string,
    headers: Record<string, string> = {},
    method: 'POST' | 'GET' = 'POST',
  ) => {
    const response = await request(`${info.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
      ...(method === 'POST' ? { body } : {}),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Envelope };
  };
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    (await raw(path, JSON.stringify(body), headers)).body;
  return {
    info,
    call,
    raw,
    fetchToken,
    token,
    setBearer(value: string) {
      bearer = value;
    },
    /** The emulator clock runs in real time from START: run-time chats use it. */
    now: () => emulator.clock.now(),
    advance: (ms: number) => emulator.clock.advance(ms),
    setFaults: (faults: FaultOptions) => emulator.setFaults(faults),
    close: () => emulator.stop(),
  };
}

type Youmi = Awaited<ReturnType<typeof startYoumi>>;

let youmi: Youmi;
let fan: YoumiRawFan;
beforeEach(async () => {
  youmi = await startYoumi({ fansPerAccount: 12, chatsPerFan: 30, tokenLifetimeSeconds: 600 });
  fan = youmi.info.fans(10001)[3] as YoumiRawFan;
});
afterEach(() => youmi.close());

describe('Youmi token endpoint (OAuth2 client credentials)', () => {
  it('given valid client credentials, when POSTed form-encoded, then it returns a bearer token', async () => {
    const answer = await youmi.fetchToken({
      grant_type: 'client_credentials',
      client_id: youmi.info.clientId,
      client_secret: youmi.info.clientSecret,
      scope: 'openapi',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'openapi',
    });
  });

  it('given the credentials in an HTTP Basic header, then it returns a token too', async () => {
    const basic = Buffer.from(`${youmi.info.clientId}:${youmi.info.clientSecret}`).toString('base64');
    const answer = await youmi.fetchToken({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('Bearer');
  });

  it('given a wrong secret, then it answers HTTP 401 invalid_client', async () => {
    const answer = await youmi.fetchToken({
      grant_type: 'client_credentials',
      client_id: youmi.info.clientId,
      client_secret: 'not-the-secret',
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });

  it('given another grant type, a missing client_id or a JSON body, then it answers HTTP 400', async () => {
    const wrongGrant = await youmi.fetchToken({ grant_type: 'password', client_id: 'a', client_secret: 'b' });
    expect(wrongGrant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    const missing = await youmi.fetchToken({ grant_type: 'client_credentials' });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const json = await request(youmi.info.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.statusCode).toBe(400);
    expect(await json.body.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('Youmi v2 authentication and tenants', () => {
  const getChat = () => ({ wechatId: 10001, fansKey: fan.fansKey, pageSize: '10', pageIndex: '1' });

  it('given no bearer, a bad one or an expired one, then the envelope says 401 with HTTP 200', async () => {
    const missing = await request(`${youmi.info.baseUrl}/v2/ChatMess/GetChat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(getChat()),
    });
    expect(missing.statusCode).toBe(200);
    expect(await missing.body.json()).toMatchObject({ succeed: false, errmsg: 401, values: null });
    youmi.setBearer('forged-token');
    expect(await youmi.call('/v2/ChatMess/GetChat', getChat())).toMatchObject({ succeed: false, errmsg: 401 });
    youmi.setBearer(await youmi.token());
    expect((await youmi.call('/v2/ChatMess/GetChat', getChat())).succeed).toBe(true);
    youmi.advance(600_000);
    const expired = await youmi.call('/v2/ChatMess/GetChat', getChat());
    expect(expired).toMatchObject({ succeed: false, errmsg: 401, errdesc: expect.stringContaining('expired') });
  });

  it('given a known TenantId it answers; given an unknown one it answers 403', async () => {
    const known = await youmi.call('/v2/ChatMess/GetChat', getChat(), { TenantId: youmi.info.tenantId });
    expect(known.succeed).toBe(true);
    const unknown = await youmi.call('/v2/ChatMess/GetChat', getChat(), { TenantId: 'T-nobody' });
    expect(unknown).toMatchObject({ succeed: false, errmsg: YOUMI_ERRMSG.forbiddenTenant });
  });

  it('given an agent with a TenantId, when it asks for a merchant token, then the token works', async () => {
    const answer = await youmi.call(
      '/v2/Public/GetMerchantToken',
      { tenantId: youmi.info.tenantId },
      { TenantId: youmi.info.tenantId },
    );
    expect(answer).toMatchObject({ succeed: true, values: { token_type: 'Bearer', expires_in: 600 } });
    youmi.setBearer((answer.values as { access_token: string }).access_token);
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).values).toBe(12);
    const notAgent = await youmi.call('/v2/Public/GetMerchantToken', { tenantId: youmi.info.tenantId });
    expect(notAgent.errmsg).toBe(YOUMI_ERRMSG.forbiddenTenant);
  });

  it('given revokeTokenEveryCalls = 3, then every third authenticated call is refused until a new token is fetched', async () => {
    youmi.setFaults({ revokeTokenEveryCalls: 3 });
    const outcomes: number[] = [];
    for (let i = 0; i < 3; i++)
      outcomes.push((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).errmsg);
    expect(outcomes).toEqual([0, 0, 401]);
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).errmsg).toBe(401);
    youmi.setBearer(await youmi.token());
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).errmsg).toBe(0);
  });
});

describe('Youmi v2 envelope and validation', () => {
  it('then a success has the full envelope: requestId null, errmsg 0, msgTime in UTC+8, errdesc null', async () => {
    const answer = await youmi.call('/v2/ChatMess/GetChat', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      pageSize: '5',
      pageIndex: '1',
    });
    expect(answer).toEqual({
      requestId: null,
      errmsg: 0,
      succeed: true,
      msgTime: expect.stringMatching(/^2026-01-15 12:3\d:\d\d$/),
      values: expect.any(Array),
      errdesc: null,
    });
    for (const chat of answer.values as YoumiRawChat[]) youmiRawChatSchema.parse(chat);
  });

  it.each([
    [{ wechatId: 10001, pageSize: '5', pageIndex: '1' }, 'fansKey: is required'],
    [{ fansKey: 'x', pageSize: '5', pageIndex: '1' }, 'wechatId: is required'],
    [{ wechatId: 10001, fansKey: 'x', pageSize: 5, pageIndex: '1' }, 'pageSize'],
    [
      { wechatId: 10001, fansKey: 'x', pageSize: '0', pageIndex: '1' },
      'pageSize: must be a string holding a positive integer',
    ],
    [{ wechatId: 10001, fansKey: 'x', pageSize: '5', pageIndex: 'first' }, 'pageIndex'],
    [{ wechatId: '10001', fansKey: 'x', pageSize: '5', pageIndex: '1' }, 'wechatId'],
    [{ wechatId: 10001, fansKey: 'x', pageSize: '5', pageIndex: '1', startTimestamp: 'yesterday' }, 'startTimestamp'],
  ])('given GetChat body %j, then errmsg 400 names the field (%s)', async (body, field) => {
    const answer = await youmi.call('/v2/ChatMess/GetChat', body);
    expect(answer).toMatchObject({ succeed: false, errmsg: 400, values: null });
    expect(answer.errdesc).toContain(field);
  });

  it('given a body that is not JSON, then errmsg 400 says so', async () => {
    const answer = await youmi.raw('/v2/ChatMess/GetChat', '{"wechatId": 1');
    expect(answer).toMatchObject({ status: 200, body: { errmsg: 400, errdesc: expect.stringContaining('JSON') } });
  });

  it('then paths match case-insensitively and with a trailing slash', async () => {
    expect((await youmi.call('/v2/friend/getfanscount/', { wechatId: 10001 })).values).toBe(12);
  });

  it('given an unknown path, then HTTP 404 with errmsg 404; given GET, then 405', async () => {
    expect(await youmi.raw('/v2/ChatMess/Nope', '{}')).toMatchObject({
      status: 404,
      body: { errmsg: 404, succeed: false },
    });
    expect(await youmi.raw('/v2/ChatMess/GetChat', '', {}, 'GET')).toMatchObject({
      status: 405,
      body: { errmsg: 405 },
    });
  });

  it('given a wechatId that is not ours or a wrong wechatKey, then errmsg 1001; an unknown fansKey has no chats', async () => {
    const base = { fansKey: fan.fansKey, pageSize: '5', pageIndex: '1' };
    expect((await youmi.call('/v2/ChatMess/GetChat', { ...base, wechatId: 999 })).errmsg).toBe(1001);
    expect((await youmi.call('/v2/ChatMess/GetChat', { ...base, wechatId: 10001, wechatKey: 'nope' })).errmsg).toBe(
      1001,
    );
    const right = await youmi.call('/v2/ChatMess/GetChat', { ...base, wechatId: 10001, wechatKey: fan.wechatKey });
    expect((right.values as unknown[]).length).toBe(5);
    const stranger = await youmi.call('/v2/ChatMess/GetChat', { ...base, wechatId: 10001, fansKey: 'wxid_stranger' });
    expect(stranger).toMatchObject({ succeed: true, values: [] });
  });
});

describe('Youmi v2 GetChat semantics', () => {
  const all = () =>
    youmi.info.expectedChats({ wechatId: 10001, fansKey: fan.fansKey, from: new Date(0), to: new Date(START) });

  it('then pageSize above 100 is capped at 100', async () => {
    const many = await startYoumi({ fansPerAccount: 2, chatsPerFan: 300 });
    try {
      const fansKey = many.info.fans(10001)[0]?.fansKey;
      const answer = await many.call('/v2/ChatMess/GetChat', {
        wechatId: 10001,
        fansKey,
        pageSize: '500',
        pageIndex: '1',
      });
      expect((answer.values as unknown[]).length).toBe(100);
    } finally {
      await many.close();
    }
  });

  it('then minChattingId is exclusive and start/end timestamps are inclusive seconds', async () => {
    const chats = all();
    const middle = chats[5] as YoumiRawChat;
    const after = await youmi.call('/v2/ChatMess/GetChat', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      minChattingId: middle.ad_chatting_id,
      pageSize: '100',
      pageIndex: '1',
    });
    expect(after.values).toEqual(chats.slice(6));
    const second = Date.parse(`${middle.ad_chatting_time.replace(' ', 'T')}+08:00`) / 1000;
    const exact = await youmi.call('/v2/ChatMess/GetChat', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      startTimestamp: second,
      endTimestamp: second,
      pageSize: '100',
      pageIndex: '1',
    });
    expect(exact.values).toEqual([middle]);
  });

  it('given a page past the end, then values is empty', async () => {
    const answer = await youmi.call('/v2/ChatMess/GetChat', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      pageSize: '100',
      pageIndex: '9',
    });
    expect(answer).toMatchObject({ succeed: true, values: [] });
  });
});

describe('Youmi v2 ChatMess actions', () => {
  it('given doSendPublicMes, then the message is a new chat with issend 1 at the clock time and the highest id', async () => {
    youmi.advance(90_000);
    const before = youmi.info.expectedChats({ wechatId: 10001, from: new Date(0), to: new Date(START + 90_000) });
    const answer = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      content: '您好，订单已发货📦',
      staffCode: 'S1110',
    });
    expect(answer.succeed).toBe(true);
    const sent = answer.values as { ad_chatting_id: number; ad_chatting_time: string };
    expect(sent.ad_chatting_time).toMatch(/^2026-01-15 12:3[12]:\d\d$/);
    expect(sent.ad_chatting_id).toBeGreaterThan(Math.max(...before.map((chat) => chat.ad_chatting_id)));
    const page = await youmi.call('/v2/ChatMess/GetChat', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      minChattingId: sent.ad_chatting_id - 1,
      pageSize: '10',
      pageIndex: '1',
    });
    expect(page.values).toEqual([
      expect.objectContaining({
        ad_chatting_id: sent.ad_chatting_id,
        ad_chatting_issend: 1,
        ad_chatting_sate: 1,
        ad_chatting_content: '您好，订单已发货📦',
        ad_staff_code: 'S1110',
        ad_chatting_resvred: null,
      }),
    ]);
    expect(BigInt((answer.values as { ad_sermsgid: string }).ad_sermsgid) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    // A second message in the same second still gets a larger id.
    const next = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      content: '在吗',
    });
    expect((next.values as { ad_chatting_id: number }).ad_chatting_id).toBe(sent.ad_chatting_id + 1);
  });

  it('given doSendPublicMes to an unknown fan or from an unknown staff, then 1002 / 1005', async () => {
    expect(
      (await youmi.call('/v2/ChatMess/doSendPublicMes', { wechatId: 10001, fansKey: 'wxid_nobody', content: 'x' }))
        .errmsg,
    ).toBe(1002);
    const unknownStaff = await youmi.call('/v2/ChatMess/doSendPublicMes', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      content: 'x',
      staffCode: 'S0',
    });
    expect(unknownStaff.errmsg).toBe(1005);
    expect((await youmi.call('/v2/ChatMess/doSendPublicMes', { wechatId: 10001, fansKey: fan.fansKey })).errdesc).toBe(
      'content: is required',
    );
  });

  it('given a takeover, then it is recorded as a 12001 chat, conflicts are refused and terminate ends it', async () => {
    const body = { wechatId: 10001, fansKey: fan.fansKey, staffCode: 'S1110', reason: '大额订单' };
    const applied = await youmi.call('/v2/ChatMess/applyTakeOver', body);
    const { takeOverKey } = applied.values as { takeOverKey: string };
    expect(takeOverKey).toMatch(/^TK/);
    expect((await youmi.call('/v2/ChatMess/applyTakeOver', body)).values).toEqual({ takeOverKey });
    expect((await youmi.call('/v2/ChatMess/applyTakeOver', { ...body, staffCode: 'S1111' })).errmsg).toBe(1003);
    const last = youmi.info
      .expectedChats({ wechatId: 10001, fansKey: fan.fansKey, from: new Date(0), to: new Date(youmi.now()) })
      .at(-1);
    expect(last?.ad_chatting_sate).toBe(12001);
    expect(JSON.parse(decodeURIComponent(last?.ad_chatting_resvred ?? ''))).toMatchObject({
      key: takeOverKey,
      reason: '大额订单',
    });
    const terminate = { wechatId: 10001, fansKey: fan.fansKey, takeOverKey };
    expect((await youmi.call('/v2/ChatMess/terminateTakeOver', { ...terminate, takeOverKey: 'TKwrong' })).errmsg).toBe(
      1003,
    );
    expect((await youmi.call('/v2/ChatMess/terminateTakeOver', terminate)).succeed).toBe(true);
    expect((await youmi.call('/v2/ChatMess/terminateTakeOver', terminate)).errmsg).toBe(1003);
  });

  it('given ActivationConversation by another staff, then the fan is reassigned and counted in the activation report', async () => {
    const staffCode = fan.staffCode === 'S1210' ? 'S1211' : 'S1210';
    const answer = await youmi.call('/v2/ChatMess/ActivationConversation', {
      wechatId: 10001,
      fansKey: fan.fansKey,
      staffCode,
    });
    expect(answer).toMatchObject({
      succeed: true,
      values: { activated: true, activatedTime: expect.stringMatching(/^2026-01-15 12:3\d:\d\d$/) },
    });
    expect(youmi.info.fans(10001)[3]?.staffCode).toBe(staffCode);
    const report = await youmi.call('/v2/Report/GetStaffActivatedStats', {
      startTimestamp: START / 1000 - 60,
      endTimestamp: START / 1000 + 60,
      staffCode,
    });
    expect(report.values).toEqual([{ staffCode, staffName: expect.any(String), activatedCount: 1 }]);
  });

  it('given sendNotice to known staff it returns an id; unknown staff → 1005; empty list → 400', async () => {
    const ok = await youmi.call('/v2/ChatMess/sendNotice', {
      staffCodes: ['S1110', 'S1111'],
      title: '通知',
      content: '今晚加班',
    });
    expect(ok.values).toEqual({ noticeId: 1, receivers: 2 });
    expect((await youmi.call('/v2/ChatMess/sendNotice', { staffCodes: ['S9'], title: 't', content: 'c' })).errmsg).toBe(
      1005,
    );
    expect((await youmi.call('/v2/ChatMess/sendNotice', { staffCodes: [], title: 't', content: 'c' })).errdesc).toMatch(
      /^staffCodes/,
    );
  });
});

describe('Youmi v2 Report, System, Friend, Todo, Ad, BulkSend', () => {
  it('then GetStaffServiceStats counts the chats of the range per staff', async () => {
    const range = { startTimestamp: START / 1000 - 30 * 86_400, endTimestamp: START / 1000 };
    const stats = (await youmi.call('/v2/Report/GetStaffServiceStats', range)).values as Array<{
      staffCode: string;
      sentCount: number;
    }>;
    const chats = youmi.info.wechatIds.flatMap((wechatId) =>
      youmi.info.expectedChats({ wechatId, from: new Date(0), to: new Date(START) }),
    );
    for (const entry of stats) {
      const sent = chats.filter(
        (chat) => chat.ad_chatting_issend === 1 && chat.ad_staff_code === entry.staffCode,
      ).length;
      expect(entry.sentCount, entry.staffCode).toBe(sent);
    }
    expect(stats.reduce((sum, entry) => sum + entry.sentCount, 0)).toBeGreaterThan(0);
    const reversed = await youmi.call('/v2/Report/GetStaffServiceStats', { startTimestamp: 10, endTimestamp: 5 });
    expect(reversed.errdesc).toMatch(/^endTimestamp/);
  });

  it('then departments → groups → staff are consistent with the staff list', async () => {
    const departments = (await youmi.call('/v2/System/GetDepartmentList', {})).values as Array<{
      departmentId: number;
    }>;
    expect(departments.length).toBe(3);
    const staffList = (await youmi.call('/v2/System/GetStaffList', { pageIndex: 1, pageSize: 100 })).values as Array<{
      staffCode: string;
    }>;
    const viaGroups: string[] = [];
    for (const department of departments) {
      const groups = (await youmi.call('/v2/System/GetGroupsByDepartment', { departmentId: department.departmentId }))
        .values as Array<{ groupId: number }>;
      for (const group of groups) {
        const staff = (await youmi.call('/v2/System/GetStaffByGroup', { groupId: group.groupId })).values as Array<{
          staffCode: string;
        }>;
        viaGroups.push(...staff.map((s) => s.staffCode));
      }
    }
    expect(viaGroups.sort()).toEqual(staffList.map((s) => s.staffCode).sort());
    expect((await youmi.call('/v2/System/GetGroupsByDepartment', { departmentId: 99 })).errmsg).toBe(1006);
    expect((await youmi.call('/v2/System/GetStaffByGroup', { groupId: 99 })).errmsg).toBe(1006);
  });

  it('then GetFansList pages (numbers or strings) cover GetFansCount fans exactly', async () => {
    const count = (await youmi.call('/v2/Friend/GetFansCount', { wechatId: 10001 })).values as number;
    expect(count).toBe(12);
    const first = (await youmi.call('/v2/Friend/GetFansList', { wechatId: 10001, pageIndex: 1, pageSize: 5 }))
      .values as YoumiRawFan[];
    const rest = [
      ...((await youmi.call('/v2/Friend/GetFansList', { wechatId: 10001, pageIndex: '2', pageSize: '5' }))
        .values as YoumiRawFan[]),
      ...((await youmi.call('/v2/Friend/GetFansList', { wechatId: 10001, pageIndex: '3', pageSize: '5' }))
        .values as YoumiRawFan[]),
    ];
    expect([...first, ...rest]).toEqual(youmi.info.fans(10001));
    expect((await youmi.call('/v2/Friend/GetFansList', { wechatId: 10001, pageIndex: -1 })).errdesc).toMatch(
      /^pageIndex/,
    );
    expect((await youmi.call('/v2/Friend/GetFansCount', { wechatId: 42 })).errmsg).toBe(1001);
  });

  it('then Todo add / add-returning-id / list / count are stateful and validated', async () => {
    const todo = {
      wechatId: 10001,
      fansKey: fan.fansKey,
      staffCode: 'S1110',
      content: '明天回访',
      remindTimestamp: START / 1000 + 86_400,
    };
    expect((await youmi.call('/v2/Todo/AddTodo', todo)).values).toBe(true);
    const withId = await youmi.call('/v2/Todo/AddTodoReturnId', { ...todo, staffCode: 'S1111' });
    expect(withId.values).toEqual({ todoId: 80_002 });
    expect((await youmi.call('/v2/Todo/GetTodoCount', {})).values).toBe(2);
    expect((await youmi.call('/v2/Todo/GetTodoCount', { staffCode: 'S1111' })).values).toBe(1);
    const list = (await youmi.call('/v2/Todo/GetTodoList', { pageIndex: '1', pageSize: '10' })).values;
    expect(list).toEqual([
      expect.objectContaining({ todoId: 80_001, content: '明天回访', remindTime: '2026-01-16 12:30:00', status: 0 }),
      expect.objectContaining({ todoId: 80_002, staffCode: 'S1111' }),
    ]);
    expect((await youmi.call('/v2/Todo/AddTodo', { ...todo, content: '' })).errdesc).toMatch(/^content/);
  });

  it('then Ad list pages match the ad count', async () => {
    const count = (await youmi.call('/v2/Ad/GetAdCount', {})).values as number;
    const ads = (await youmi.call('/v2/Ad/GetAdList', { pageIndex: 1, pageSize: 50 })).values as unknown[];
    expect(ads).toHaveLength(count);
    expect(ads[0]).toMatchObject({
      adId: expect.any(Number),
      title: expect.any(String),
      url: expect.stringMatching(/^https:/),
    });
  });

  it('given a bulk send due now, then every known fan gets the message and the task can be deleted once', async () => {
    const fans = youmi.info
      .fans(10002)
      .slice(0, 2)
      .map((f) => f.fansKey);
    const saved = await youmi.call('/v2/BulkSend/SaveRpaBulkSend', {
      wechatId: 10002,
      fansKeys: [...fans, 'wxid_gone'],
      content: '新年快乐🧧',
    });
    const { taskId, status } = saved.values as { taskId: string; status: string };
    expect(status).toBe('finished');
    for (const fansKey of fans) {
      const last = youmi.info
        .expectedChats({ wechatId: 10002, fansKey, from: new Date(0), to: new Date(youmi.now()) })
        .at(-1);
      expect(last).toMatchObject({ ad_chatting_content: '新年快乐🧧', ad_chatting_issend: 1 });
    }
    const later = await youmi.call('/v2/BulkSend/SaveRpaBulkSend', {
      wechatId: 10002,
      fansKeys: fans,
      content: 'x',
      sendTimestamp: START / 1000 + 3600,
    });
    expect((later.values as { status: string }).status).toBe('pending');
    expect((await youmi.call('/v2/BulkSend/DeleteRpaBulkSend', { taskId })).values).toBe(true);
    expect((await youmi.call('/v2/BulkSend/DeleteRpaBulkSend', { taskId })).errmsg).toBe(1004);
  });
});
