import { hasCapability } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

let running: YoumiEmulator | undefined;
const providers: YoumiProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await running?.emulator.stop();
  running = undefined;
});

async function setup(overrides: Parameters<YoumiEmulator['config']>[0] = {}) {
  running = await startYoumiEmulator();
  const emulator = running;
  const provider = new YoumiProvider(emulator.config(overrides), { now: () => emulator.emulator.clock.now() });
  providers.push(provider);
  const fans = emulator.youmi.fans(10001);
  return { emulator, provider, client: provider.client, fan: fans[0]?.fansKey as string, fans };
}

describe('YoumiClient: every v2 call against the emulator', () => {
  it('ChatMess: send, apply / terminate takeover, activate, notice', async () => {
    const { client, fan } = await setup();
    const sent = await client.sendMessage({ wechatId: 10001, fansKey: fan, content: '您好', staffCode: 'S1110' });
    expect(sent.ad_chatting_id).toBeGreaterThan(1_000_000);
    const takeover = await client.applyTakeOver({ wechatId: 10001, fansKey: fan, staffCode: 'S1110', reason: '跟进' });
    expect(takeover.takeOverKey).toMatch(/^TK/);
    await expect(
      client.terminateTakeOver({ wechatId: 10001, fansKey: fan, takeOverKey: takeover.takeOverKey }),
    ).resolves.toBe(true);
    await expect(
      client.activateConversation({ wechatId: 10001, fansKey: fan, staffCode: 'S1111' }),
    ).resolves.toMatchObject({
      activated: true,
    });
    await expect(client.sendNotice({ staffCodes: ['S1110'], title: '通知', content: '开会' })).resolves.toMatchObject({
      receivers: 1,
    });
  });

  it('Report: staff service and activated-customer statistics', async () => {
    const { client, emulator } = await setup();
    const range = {
      startTimestamp: Math.floor(emulator.start / 1000) - 86_400,
      endTimestamp: Math.floor(emulator.start / 1000),
    };
    const service = await client.staffServiceReport(range);
    expect(service.length).toBeGreaterThan(0);
    expect(service[0]).toHaveProperty('staffCode');
    const activated = await client.activatedCustomersReport({ ...range, staffCode: 'S1110' });
    expect(activated).toEqual([expect.objectContaining({ staffCode: 'S1110', activatedCount: 0 })]);
    expect(() => client.staffServiceReport({ startTimestamp: 10, endTimestamp: 5 })).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID' }),
    );
  });

  it('System: departments, groups by department, staff by group, staff list', async () => {
    const { client } = await setup();
    const departments = await client.departments();
    expect(departments.length).toBeGreaterThan(0);
    const groups = await client.groupsByDepartment(Number(departments[0]?.departmentId));
    expect(groups.every((g) => g.departmentId === departments[0]?.departmentId)).toBe(true);
    const staff = await client.staffByGroup(Number(groups[0]?.groupId));
    expect(staff.length).toBeGreaterThan(0);
    expect((await client.staffList({ pageSize: 100 })).length).toBeGreaterThanOrEqual(staff.length);
    await expect(client.groupsByDepartment(999)).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { platformCode: 1006 },
    });
  });

  it('Friend: fans list (paged) and count', async () => {
    const { client, fans } = await setup();
    const page1 = await client.fansList({ wechatId: 10001, pageIndex: 1, pageSize: 5 });
    const page3 = await client.fansList({ wechatId: 10001, pageIndex: 3, pageSize: 5 });
    expect(page1.map((f) => f.fansKey)).toEqual(fans.slice(0, 5).map((f) => f.fansKey));
    expect(page3).toHaveLength(2);
    await expect(client.fansCount(10001)).resolves.toBe(12);
    await expect(client.fansCount(4242)).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { platformCode: 1001 },
    });
  });

  it('Todo: add, add returning id, list, count', async () => {
    const { client, fan } = await setup();
    const todo = { wechatId: 10001, fansKey: fan, staffCode: 'S1110', content: '明天回访' };
    await expect(client.addTodo(todo)).resolves.toBe(true);
    const id = await client.addTodoReturningId({ ...todo, remindTimestamp: 1_800_000_000 });
    expect(id).toMatch(/^\d+$/);
    const list = await client.todoList({ staffCode: 'S1110' });
    expect(list.map((item) => String(item.todoId))).toContain(id);
    await expect(client.todoCount({ wechatId: 10001 })).resolves.toBe(2);
  });

  it('Ad: list and count', async () => {
    const { client } = await setup();
    const count = await client.adCount();
    const list = await client.adList({ pageSize: 100 });
    expect(list).toHaveLength(count);
  });

  it('BulkSend: save and delete an RPA bulk send', async () => {
    const { client, fans } = await setup();
    const taskId = await client.saveBulkSend({
      wechatId: 10001,
      fansKeys: fans.slice(0, 2).map((f) => f.fansKey),
      content: '双11活动',
      sendTimestamp: 1_900_000_000,
    });
    expect(taskId).toMatch(/^RPA/);
    await expect(client.deleteBulkSend(taskId)).resolves.toBe(true);
    await expect(client.deleteBulkSend(taskId)).rejects.toMatchObject({ details: { platformCode: 1004 } });
  });

  it('Public: register a callback URL and subscribe events', async () => {
    const { client } = await setup();
    await expect(client.registerCallbackUrl('http://127.0.0.1:9/youmi', 'chat')).resolves.toBe(true);
    await expect(
      client.subscribeEvent({ url: 'http://127.0.0.1:9/sub', appId: 'kefu', messageTypes: ['rpaTaskResult'] }),
    ).resolves.toBe(true);
  });

  it('sends TenantId for agents, and an unknown tenant is refused with its code', async () => {
    const { emulator } = await setup();
    const agent = new YoumiProvider(emulator.config({ tenantId: emulator.youmi.tenantId }));
    const stranger = new YoumiProvider(emulator.config({ tenantId: 'T-unknown' }));
    providers.push(agent, stranger);
    await expect(agent.client.adCount()).resolves.toBeGreaterThan(0);
    await expect(stranger.client.adCount()).rejects.toMatchObject({ details: { platformCode: 403 } });
  });
});

describe('YoumiProvider capabilities against the emulator', () => {
  it('declares agents, sessions and messaging and implements them', async () => {
    const { provider, fan, emulator } = await setup();
    expect(hasCapability(provider, 'agents') && hasCapability(provider, 'sessions')).toBe(true);
    expect(provider.accounts()).toEqual(['10001']);
    const agents = await provider.listAgents();
    expect(agents.length).toBeGreaterThan(3);
    expect(agents[0]).toMatchObject({ id: expect.stringMatching(/^S\d+/), name: expect.any(String) });

    await provider.openSession({ customer: fan, agent: 'S1112' });
    await expect(provider.getSession({ customer: fan })).resolves.toEqual({
      account: '10001',
      customer: fan,
      agent: 'S1112',
    });
    await provider.client.applyTakeOver({ wechatId: 10001, fansKey: fan, staffCode: 'S1112' });
    await provider.closeSession({ customer: fan, agent: 'S1112' });
    await expect(provider.closeSession({ customer: fan, agent: 'S1112' })).rejects.toMatchObject({
      details: { platformCode: 1003 },
    });

    await provider.sendMessage({ customer: fan, message: { kind: 'text', text: '在的' }, agent: 'S1112' });
    await provider.sendMessage({ customer: fan, message: { kind: 'image', mediaId: 'imgs[K1]' } });
    await provider.sendMessage({
      customer: fan,
      message: {
        kind: 'platform',
        payload: { content: 'a(https://x)', messageType: 49, resvred: { title: 'T', url: 'https://x' } },
      },
    });
    emulator.emulator.clock.advance(2_000);
    const live = emulator.youmi.expectedChats({
      wechatId: 10001,
      from: new Date(emulator.start),
      to: new Date(emulator.emulator.clock.now()),
      fansKey: fan,
    });
    expect(live.map((chat) => chat.ad_chatting_sate)).toEqual([12001, 1, 3, 49]);
  });

  it('refuses unknown accounts and use after close with typed errors', async () => {
    const { provider, fan } = await setup();
    await expect(provider.openSession({ account: '77', customer: fan, agent: 'S1110' })).rejects.toMatchObject({
      code: 'YOUMI_ACCOUNT_UNKNOWN',
    });
    await provider.close();
    await expect(provider.close()).resolves.toBeUndefined();
    await expect(provider.listAgents()).rejects.toMatchObject({ code: 'KEFU_RUNTIME_CLOSED' });
  });
});
