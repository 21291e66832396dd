import { hasCapability } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

// Every call of platforms/youmi-api.md that kefu implements, against the emulator (a separate
// reading of the same reference).

let running: YoumiEmulator | undefined;
const providers: YoumiProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await running?.emulator.stop();
  running = undefined;
});

async function setup(overrides: Parameters<YoumiEmulator['config']>[0] = {}, youmi: Record<string, unknown> = {}) {
  running = await startYoumiEmulator(youmi);
  const emulator = running;
  const provider = new YoumiProvider(emulator.config(overrides), { now: () => emulator.emulator.clock.now() });
  providers.push(provider);
  const fans = emulator.youmi.fans(10001);
  return { emulator, provider, client: provider.client, fan: fans[0]?.fansKey as string, fans };
}

const lastChatOf = (emulator: YoumiEmulator, fansKey: string) =>
  emulator.youmi
    .expectedChats({ wechatId: 10001, fansKey, from: new Date(0), to: new Date(emulator.emulator.clock.now()) })
    .at(-1);

describe('YoumiClient: the v2 calls against the emulator', () => {
  it('ChatMess: doSendPublicMes (PascalCase), applyTakeOver and ActivationConversation (snake_case)', async () => {
    const { client, emulator, fans } = await setup();
    const fan = fans[1]?.fansKey as string;
    await client.sendMessage({ wechatId: 10001, toUserName: fan, msgType: 'text', text: '您好 A+B' });
    expect(lastChatOf(emulator, fan)).toMatchObject({ ad_chatting_issend: 1, ad_chatting_content: '您好 A+B' });
    await client.sendMessage({
      wechatId: '10001',
      toUserName: fan,
      msgType: 'image',
      url: 'https://x/a.png',
      format: 'png',
    });
    expect(lastChatOf(emulator, fan)).toMatchObject({ ad_chatting_sate: 3 });
    await client.applyTakeOver({
      friendKey: fan,
      applyKey: 'S1110',
      applyName: '王店长',
      applyReason: '跟进',
      applySource: 'QKB',
    });
    expect(lastChatOf(emulator, fan)).toMatchObject({ ad_chatting_sate: 12001 });
    const owned = fans.find((candidate) => candidate.staffCode !== null) as { fansKey: string; staffCode: string };
    await expect(
      client.activateConversation({
        friendWechatId: owned.fansKey,
        wechatId: 10001,
        staffCode: owned.staffCode,
        enforceAttribution: 0,
        content: '',
      }),
    ).resolves.toBe(true);
    await expect(
      client.activateConversation({
        friendWechatId: owned.fansKey,
        wechatId: 10001,
        staffCode: 'S1112',
        enforceAttribution: 0,
        content: '',
      }),
    ).rejects.toMatchObject({ code: 'YOUMI_API_ERROR', details: { platformCode: 200019 } });
    expect(() =>
      client.activateConversation({ friendWechatId: owned.fansKey, enforceAttribution: 1, content: '' }),
    ).toThrow(expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID' }));
  });

  it('Report: GetDataByStaffCustomer (Dates sent as yyyy-MM-dd HH:mm:ss) and GetActivationListByStaff (the day as midnight seconds)', async () => {
    const { client, emulator } = await setup();
    const rows = await client.staffCustomerReport({
      startDate: new Date(emulator.start - 3 * 86_400_000),
      endDate: new Date(emulator.start),
      orderType: 'asc',
      show: 3,
      staffState: true,
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toHaveProperty('ad_staff_code');
    const report = emulator.emulator.requests
      .entries()
      .find((entry) => entry.path === '/v2/Report/GetDataByStaffCustomer');
    expect(report?.status).toBe(200);
    await expect(client.activationReport({ day: new Date(emulator.start) })).resolves.toEqual(
      expect.arrayContaining([expect.objectContaining({ ad_staff_code: 'S1110' })]),
    );
  });

  it('System: GET GetDepartList (the documented shape), GetDepartGroupList, GetStaffList', async () => {
    const { client } = await setup();
    const departments = await client.departments();
    expect(departments.length).toBeGreaterThan(0);
    expect(departments[0]).toEqual({ departid: expect.any(Number), departname: expect.any(String) });
    const groups = await client.departmentGroups(departments[0]?.departid as number);
    expect(groups.length).toBeGreaterThan(0);
    const staff = await client.staffList({ departId: -1, departGroupId: -1, staffState: 0 });
    expect(staff.every((row) => typeof row.ad_staff_code === 'string')).toBe(true);
  });

  it('Friend: GetFansList (paged, rows as sent) and GetFansCount (fansKe sent empty)', async () => {
    const { client, fans } = await setup();
    const first = await client.fansList({ wechatId: 10001, pageIndex: 1, pageSize: 5 });
    const second = await client.fansList({ wechatId: 10001, pageIndex: 2, pageSize: 5 });
    expect([...first, ...second].map((row) => row.ad_relation_talter)).toEqual(
      fans.slice(0, 10).map((fan) => fan.fansKey),
    );
    await expect(client.fansCount({ wechatId: 10001 })).resolves.toBe(fans.length);
    await expect(client.fansCount({ wechatId: 10001, fansKey: fans[2]?.fansKey as string })).resolves.toBe(1);
  });

  it('Todo: AddRecord, AddRecordNew (id), GetChargeDaffairesList and …Count', async () => {
    const { client, fan } = await setup();
    const todo = {
      friendWechatId: fan,
      staffId: 'S1110',
      remindTitle: '回访',
      followUp: '已下单',
      remindTime: new Date(),
      recipients: ['S1110'],
    };
    await expect(client.addTodo(todo)).resolves.toBe(true);
    const id = await client.addTodoReturningId({ ...todo, levelName: '高' });
    expect(id).toMatch(/^\d+$/);
    const list = await client.todoList({ pageIndex: 1, pageSize: 10 });
    expect(list.map((row) => String(row.chargeDaffairesId))).toContain(id);
    await expect(client.todoCount()).resolves.toBe(list.length);
  });

  it('AdManage: GetAdList pages add up to GetAdCount', async () => {
    const { client } = await setup();
    const count = await client.adCount();
    const first = await client.adList({ pageIndex: 1, pageSize: 10 });
    const second = await client.adList({ pageIndex: 2, pageSize: 10 });
    expect(first.length + second.length).toBe(count);
  });

  it('BulkSend: SaveBulkSendTask with task_content returns the task id', async () => {
    const { client } = await setup();
    await expect(client.saveBulkSendTask({ taskContent: [{ type: '0', data: { content: '双11' } }] })).resolves.toMatch(
      /^RPA/,
    );
    expect(() => client.saveBulkSendTask({ taskContent: [] })).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID' }),
    );
  });

  it('Public: registerCallbackUrl with type 100 / 200 and subscribeEvent', async () => {
    const { client } = await setup();
    await expect(client.registerCallbackUrl('http://127.0.0.1:9/hook', 200)).resolves.toBe(true);
    await expect(
      client.subscribeEvent({ url: 'http://127.0.0.1:9/sub', appId: 'app', messageTypes: ['chat'] }),
    ).resolves.toBe(true);
  });

  it('获取商户TOKEN: merchantToken() answers the token call as sent', async () => {
    const { provider, emulator } = await setup();
    await expect(provider.merchantToken()).resolves.toMatchObject({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 7200,
    });
    expect(emulator.emulator.requests.count({ path: '/connect/token' })).toBe(1);
  });

  it('sends TenantId for agents; an unknown tenant is refused with its code', async () => {
    const agent = await setup({ tenantId: 'T-unknown' });
    await expect(agent.client.departments()).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { platformCode: 200012 },
    });
    const known = new YoumiProvider(agent.emulator.config({ tenantId: agent.emulator.youmi.tenantId }));
    providers.push(known);
    await expect(known.client.departments()).resolves.toEqual(expect.any(Array));
  });
});

describe('YoumiV1Client: the v1 calls against the emulator', () => {
  it('given v1 credentials, then WeCaht, friend and Add_Friend answer with signed headers', async () => {
    const { emulator } = await setup();
    const provider = new YoumiProvider(
      emulator.config({
        v1: {
          appId: emulator.youmi.v1.appId,
          appKey: emulator.youmi.v1.appKey,
          tokenUrl: emulator.youmi.v1.tokenUrl,
          baseUrl: emulator.youmi.v1.baseUrl,
        },
      }),
      { now: () => emulator.emulator.clock.now() },
    );
    providers.push(provider);
    const v1 = provider.v1;
    if (!v1) throw new Error('v1 client expected');
    await expect(v1.operatingAccounts()).resolves.toEqual([expect.objectContaining({ ad_wechat_id: 10001 })]);
    const friends = await v1.friends({ wechatId: 10001, page: 1, pageSize: 3 });
    expect(friends.map((row) => row.ad_friend_wenober)).toEqual(
      emulator.youmi
        .fans(10001)
        .slice(0, 3)
        .map((fan) => fan.fansKey),
    );
    await expect(
      v1.addFriend({ receiverId: 10001, mobile: '13800000000', greeting: '你好', pcKid: 'pc-1' }),
    ).resolves.toBe(true);
    const token = emulator.emulator.requests.entries().find((entry) => entry.path === '/publicapi/v1/GetAccessToken');
    expect(token).toMatchObject({ method: 'POST', status: 200, query: { format: 'json' } });
  });

  it.each(['epoch', 'seconds'] as const)(
    'given the v1 token expires_in read as %s, then the token is reused, not refetched',
    async (reading) => {
      const { emulator } = await setup({}, { v1ExpiresIn: reading });
      const provider = new YoumiProvider(
        emulator.config({
          v1: {
            appId: emulator.youmi.v1.appId,
            appKey: emulator.youmi.v1.appKey,
            tokenUrl: emulator.youmi.v1.tokenUrl,
            baseUrl: emulator.youmi.v1.baseUrl,
          },
        }),
        { now: () => emulator.emulator.clock.now() },
      );
      providers.push(provider);
      await provider.v1?.operatingAccounts();
      await provider.v1?.operatingAccounts();
      expect(emulator.emulator.requests.count({ path: '/publicapi/v1/GetAccessToken' })).toBe(1);
    },
  );
});

describe('YoumiProvider capabilities and checks', () => {
  it('declares agents and messaging (no sessions: 终止接管 is not documented readably) and implements them', async () => {
    const { provider, emulator, fans } = await setup();
    expect(hasCapability(provider, 'agents')).toBe(true);
    expect(hasCapability(provider, 'messaging')).toBe(true);
    expect(hasCapability(provider, 'sessions')).toBe(false);
    const agents = await provider.listAgents();
    expect(agents.length).toBeGreaterThan(0);
    expect(agents[0]).toEqual({
      id: expect.stringMatching(/^S/),
      account: expect.any(String),
      name: expect.any(String),
    });
    const fan = fans[2]?.fansKey as string;
    await provider.sendMessage({ customer: fan, message: { kind: 'text', text: '在的' } });
    await provider.sendMessage({ customer: fan, message: { kind: 'image', mediaId: 'https://x/b.jpg' } });
    await provider.sendMessage({
      customer: fan,
      message: { kind: 'platform', payload: { MsgType: 'video', Url: 'https://x/v.mp4', Format: 'mp4' } },
    });
    expect(lastChatOf(emulator, fan)?.ad_chatting_content).toBe('video[https://x/v.mp4]');
  });

  it('given check() (kefu doctor), then one documented GetFansCount per account', async () => {
    const { provider, emulator } = await setup();
    await provider.check();
    expect(emulator.emulator.requests.count({ path: '/v2/Friend/GetFansCount' })).toBe(1);
    const wrong = new YoumiProvider({ ...emulator.config(), wechatIds: [424242] });
    providers.push(wrong);
    await expect(wrong.check()).rejects.toMatchObject({ code: 'YOUMI_API_ERROR', details: { platformCode: 200018 } });
  });

  it('refuses unknown accounts and use after close with typed errors', async () => {
    const { provider, emulator } = await setup();
    await expect(
      provider.sendMessage({ account: '999', customer: 'x', message: { kind: 'text', text: 'x' } }),
    ).rejects.toMatchObject({
      code: 'YOUMI_ACCOUNT_UNKNOWN',
    });
    await provider.close();
    expect(() => provider.records({ from: emulator.start - 1000, to: emulator.start })).toThrow(
      expect.objectContaining({ code: 'KEFU_PROVIDER_CLOSED' }),
    );
  });
});
