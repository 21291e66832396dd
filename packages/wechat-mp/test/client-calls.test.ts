import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isKefuError } from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WechatMpClient } from '../src/wechat-mp-client.js';
import type { WechatMpProvider } from '../src/wechat-mp-provider.js';
import type { WechatOutgoingMessage } from '../src/wechat-mp-schemas.js';
import { startWechatFixture } from './support/wechat-fixture.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 2)]);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isKefuError(error) ? error.code : `not a KefuError: ${String(error)}`;
}

describe('WechatMpClient: every call against the emulator', () => {
  let fixture: Awaited<ReturnType<typeof startWechatFixture>>;
  let provider: WechatMpProvider;
  let client: WechatMpClient;
  let suffix: string;
  let recentCustomers: string[];
  let staleCustomer: string;
  let onlineAgent: string;
  let offlineAgent: string;
  let dir: string;

  beforeAll(async () => {
    fixture = await startWechatFixture();
    provider = fixture.makeProvider();
    client = provider.client(fixture.appId);
    const agents = await client.listAgents();
    suffix = (agents[0]?.kf_account ?? '').split('@')[1] as string;
    const online = new Set((await client.listOnlineAgents()).map((a) => a.kf_account));
    onlineAgent = agents.find((a) => online.has(a.kf_account))?.kf_account as string;
    offlineAgent = agents.find((a) => !online.has(a.kf_account))?.kf_account as string;
    const response = await fetch(
      `${fixture.emulator.wechat.baseUrl}/__emulator/wechat/customers?appid=${fixture.appId}`,
    );
    const { customers } = (await response.json()) as {
      customers: Array<{ openid: string; last_message_time: number }>;
    };
    const now = fixture.emulator.clock.now() / 1000;
    recentCustomers = customers.filter((c) => now - c.last_message_time < 40 * 3600).map((c) => c.openid);
    staleCustomer = customers.find((c) => now - c.last_message_time > 49 * 3600)?.openid as string;
    dir = await mkdtemp(join(tmpdir(), 'kefu-wechat-avatar-'));
  });
  afterAll(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });

  const customerWrites = (openid: string, text = 'hello?') =>
    fetch(`${fixture.emulator.wechat.baseUrl}/__emulator/wechat/customer-message`, {
      method: 'POST',
      body: JSON.stringify({ appid: fixture.appId, openid, text }),
    });

  describe('agents', () => {
    it('lists agents and online agents (kf_id as string or number)', async () => {
      const agents = await client.listAgents();
      const online = await client.listOnlineAgents();
      expect(agents.length).toBe(4);
      expect(online.length).toBe(3);
      expect(agents.every((a) => a.kf_account.endsWith(`@${suffix}`))).toBe(true);
      expect(online.map((a) => a.kf_account)).toContain(onlineAgent);
      expect(agents.map((a) => a.kf_account)).toContain(offlineAgent);
      expect(online.map((a) => a.kf_account)).not.toContain(offlineAgent);
    });

    it('given the agents capability, lists agents with online state and active sessions', async () => {
      const agents = await provider.listAgents(fixture.appId);
      expect(agents.find((a) => a.id === offlineAgent)?.online).toBe(false);
      expect(agents.find((a) => a.id === onlineAgent)).toMatchObject({ online: true, account: fixture.appId });
      expect(agents.reduce((sum, a) => sum + (a.activeSessions ?? 0), 0)).toBeGreaterThan(0);
    });

    it('adds, updates, invites, uploads an avatar (path, Buffer, stream) and deletes an agent', async () => {
      const account = `new_1@${suffix}`;
      await client.addAgent({ account, nickname: 'Newbie' });
      expect(await codeOf(client.addAgent({ account, nickname: 'Again' }))).toBe('WECHAT_65406');
      await client.updateAgent({ account, nickname: 'Renamed' });
      expect((await client.listAgents()).find((a) => a.kf_account === account)?.kf_nick).toBe('Renamed');
      await client.inviteAgent({ account, inviteWx: 'wxid_newbie01' });
      expect(await codeOf(client.inviteAgent({ account, inviteWx: 'wxid_newbie01' }))).toMatch(/WECHAT_6541[12]/);
      const path = join(dir, 'avatar.png');
      await writeFile(path, PNG);
      await client.uploadAgentAvatar({ account, image: path });
      await client.uploadAgentAvatar({ account, image: JPEG });
      await client.uploadAgentAvatar({ account, image: Readable.from([JPEG.subarray(0, 10), JPEG.subarray(10)]) });
      expect((await client.listAgents()).find((a) => a.kf_account === account)?.kf_headimgurl).toMatch(/wx_fmt=jpeg/);
      await client.deleteAgent(account);
      expect((await client.listAgents()).some((a) => a.kf_account === account)).toBe(false);
    });

    it.each([
      ['both', ['GET 0']],
      ['post', ['GET 43002', 'POST 0']],
    ] as const)(
      'given a platform taking %s forms of kfaccount/del, when deleting an agent, then it sends %j',
      async (forms, sent) => {
        fixture.emulator.wechat.setKnobs({ deleteAgent: forms });
        try {
          const account = `del_${forms}@${suffix}`;
          await client.addAgent({ account, nickname: 'Leaving' });
          fixture.emulator.requests.clear();
          await client.deleteAgent(account);
          const calls = fixture.emulator.requests
            .entries()
            .filter((entry) => entry.path === '/customservice/kfaccount/del')
            .map((entry) => `${entry.method} ${entry.errcode ?? 0}`);
          expect(calls).toEqual(sent);
          expect(
            fixture.emulator.requests.entries().find((e) => e.method === 'GET' && e.path.endsWith('/del'))?.query,
          ).toMatchObject({
            kf_account: account,
          });
          expect((await client.listAgents()).some((a) => a.kf_account === account)).toBe(false);
        } finally {
          fixture.emulator.wechat.setKnobs({ deleteAgent: 'both' });
        }
      },
    );

    it('given a platform error, then the typed error keeps the request id WeChat appends to errmsg', async () => {
      const error = await client.updateAgent({ account: `nobody@${suffix}`, nickname: 'x' }).catch((e: unknown) => e);
      expect(isKefuError(error) && error.code).toBe('WECHAT_65401');
      const rid = isKefuError(error) ? (error.details.rid as string) : '';
      expect(rid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
      expect((error as Error).message).toContain(`rid: ${rid}`);
    });

    it('maps agent errors to typed errors', async () => {
      expect(await codeOf(client.updateAgent({ account: `nobody@${suffix}`, nickname: 'x' }))).toBe('WECHAT_65401');
      expect(await codeOf(client.addAgent({ account: 'abc@not_this_account', nickname: 'x' }))).toBe('WECHAT_65404');
      expect(await codeOf(client.inviteAgent({ account: `new_1@${suffix}`, inviteWx: 'x' }))).toBe('WECHAT_65401');
      expect(await codeOf(client.inviteAgent({ account: onlineAgent, inviteWx: 'wxid_someone' }))).toBe('WECHAT_65412');
      expect(await codeOf(client.uploadAgentAvatar({ account: onlineAgent, image: Buffer.from('GIF89a...') }))).toBe(
        'WECHAT_40005',
      );
    });

    it('refuses bad input before sending, saying what is wrong', async () => {
      const before = fixture.emulator.requests.count();
      expect(await codeOf(client.addAgent({ account: 'no-at-sign', nickname: 'x' }))).toBe('WECHAT_INVALID_REQUEST');
      expect(await codeOf(client.addAgent({ account: `ok@${suffix}`, nickname: 'x'.repeat(17) }))).toBe(
        'WECHAT_INVALID_REQUEST',
      );
      expect(
        await codeOf(client.uploadAgentAvatar({ account: onlineAgent, image: Buffer.alloc(5 * 1024 * 1024 + 1) })),
      ).toBe('WECHAT_AVATAR_TOO_LARGE');
      expect(fixture.emulator.requests.count()).toBe(before);
    });
  });

  describe('sessions', () => {
    it('creates, gets, lists and closes a session; lists the wait queue', async () => {
      const openid = recentCustomers.at(-1) as string;
      await client.createSession({ account: onlineAgent, openid });
      // Creating it again is documented to succeed.
      await client.createSession({ account: onlineAgent, openid });
      expect((await client.getSession(openid)).kf_account).toBe(onlineAgent);
      expect(await provider.getSession({ account: fixture.appId, customer: openid })).toMatchObject({
        agent: onlineAgent,
      });
      expect((await client.listSessions(onlineAgent)).map((s) => s.openid)).toContain(openid);
      await provider.closeSession({ account: fixture.appId, customer: openid, agent: onlineAgent });
      expect((await client.getSession(openid)).kf_account).toBe('');
      expect((await provider.getSession({ account: fixture.appId, customer: openid })).agent).toBeUndefined();
      await provider.openSession({ account: fixture.appId, customer: openid, agent: onlineAgent });
      await client.closeSession({ account: onlineAgent, openid });
      const queue = await client.getWaitQueue();
      expect(queue.count).toBe(queue.waiting.length);
      expect(queue.count).toBeGreaterThan(0);
    });

    it('maps session errors to typed errors', async () => {
      const openid = recentCustomers.at(-2) as string;
      expect(await codeOf(client.createSession({ account: offlineAgent, openid }))).toBe('WECHAT_65415');
      expect(await codeOf(client.closeSession({ account: onlineAgent, openid }))).toBe('WECHAT_65413');
      expect(await codeOf(client.getSession('o-not-a-follower'))).toBe('WECHAT_40003');
      expect(await codeOf(client.listSessions(`ghost@${suffix}`))).toBe('WECHAT_65401');
    });
  });

  describe('messages and typing', () => {
    const everyType: WechatOutgoingMessage[] = [
      { msgtype: 'text', text: { content: 'hello' } },
      { msgtype: 'image', image: { media_id: 'MEDIA_1' } },
      { msgtype: 'voice', voice: { media_id: 'MEDIA_2' } },
      { msgtype: 'video', video: { media_id: 'MEDIA_3', thumb_media_id: 'THUMB', title: 't', description: 'd' } },
      {
        msgtype: 'music',
        music: { title: 't', description: 'd', musicurl: 'http://m', hqmusicurl: 'http://hq', thumb_media_id: 'THUMB' },
      },
      { msgtype: 'news', news: { articles: [{ title: 't', description: 'd', url: 'http://u', picurl: 'http://p' }] } },
      { msgtype: 'mpnews', mpnews: { media_id: 'MEDIA_4' } },
      { msgtype: 'mpnewsarticle', mpnewsarticle: { article_id: 'ARTICLE' } },
      { msgtype: 'msgmenu', msgmenu: { head_content: 'h', list: [{ id: '1', content: 'yes' }], tail_content: 't' } },
      { msgtype: 'wxcard', wxcard: { card_id: 'CARD' } },
      {
        msgtype: 'miniprogrampage',
        miniprogrampage: { title: 't', appid: 'wxmini', pagepath: 'p/i', thumb_media_id: 'T' },
      },
    ];

    it('sends every message type, optionally as an agent, and they appear in the records', async () => {
      const openid = recentCustomers[0] as string;
      let sent = 0;
      for (const message of everyType) {
        if (sent % 4 === 0) await customerWrites(openid); // resets the per-interaction send limit
        const answer = await client.sendMessage({ openid, message, ...(sent % 2 ? { asAgent: onlineAgent } : {}) });
        expect(answer.errcode ?? 0).toBe(0);
        sent += 1;
      }
      await customerWrites(openid);
      await provider.sendMessage({
        account: fixture.appId,
        customer: openid,
        message: { kind: 'text', text: 'generic' },
      });
      await provider.sendMessage({
        account: fixture.appId,
        customer: openid,
        message: { kind: 'image', mediaId: 'M' },
      });
      await provider.sendMessage({
        account: fixture.appId,
        customer: openid,
        agent: onlineAgent,
        message: { kind: 'platform', payload: { msgtype: 'wxcard', wxcard: { card_id: 'C' } } },
      });
      const now = fixture.emulator.clock.now();
      const { records } = await (async () => {
        const out = [];
        for await (const page of provider.records({
          account: fixture.appId,
          customer: openid,
          from: new Date(now - 60_000),
          to: new Date(now + 2000),
        }))
          out.push(...page.records);
        return { records: out };
      })();
      const outbound = records.filter((r) => r.direction === 'outbound');
      expect(outbound.length).toBe(everyType.length + 3);
      expect(outbound.some((r) => r.kind === 'image')).toBe(true);
      expect(outbound.some((r) => r.text === 'generic')).toBe(true);
      expect(records.some((r) => r.direction === 'inbound' && r.text === 'hello?')).toBe(true);
    });

    it('maps messaging errors to typed errors', async () => {
      const openid = recentCustomers[1] as string;
      await customerWrites(openid);
      for (let i = 0; i < 5; i++) await client.sendMessage({ openid, message: everyType[0] as WechatOutgoingMessage });
      expect(await codeOf(client.sendMessage({ openid, message: everyType[0] as WechatOutgoingMessage }))).toBe(
        'WECHAT_45047',
      );
      expect(
        await codeOf(client.sendMessage({ openid: staleCustomer, message: everyType[0] as WechatOutgoingMessage })),
      ).toBe('WECHAT_45015');
      expect(
        await codeOf(
          client.sendMessage({ openid, message: everyType[0] as WechatOutgoingMessage, asAgent: `ghost@${suffix}` }),
        ),
      ).toBe('WECHAT_65401');
      // More than one article is refused before sending (the platform would answer 45008).
      const twoArticles = {
        msgtype: 'news',
        news: {
          articles: [
            { title: 'a', url: 'u' },
            { title: 'b', url: 'u' },
          ],
        },
      };
      expect(
        await codeOf(
          provider.sendMessage({
            account: fixture.appId,
            customer: openid,
            message: { kind: 'platform', payload: twoArticles },
          }),
        ),
      ).toBe('WECHAT_INVALID_REQUEST');
    });

    it('sets and cancels the typing state, with typed errors for the typing rules', async () => {
      const openid = recentCustomers[2] as string;
      expect(await codeOf(client.setTyping(openid, true))).toBe('WECHAT_45080');
      await customerWrites(openid);
      await client.setTyping(openid, true);
      expect(await codeOf(client.setTyping(openid, true))).toBe('WECHAT_45081');
      await client.setTyping(openid, false);
      await client.setTyping(openid, true);
    });
  });

  describe('accounts', () => {
    it('serves several app ids in one provider, each with its own token', async () => {
      expect(provider.accounts()).toEqual(fixture.emulator.wechat.accounts.map((a) => a.appId));
      const second = fixture.emulator.wechat.accounts[1]?.appId as string;
      const agents = await provider.listAgents(second);
      expect(agents.every((a) => a.account === second)).toBe(true);
      expect(agents[0]?.id.split('@')[1]).not.toBe(suffix);
      expect(await codeOf(Promise.resolve().then(() => provider.client('wx-not-configured')))).toBe(
        'WECHAT_UNKNOWN_ACCOUNT',
      );
    });

    it('maps token-endpoint errors: wrong secret and unknown app id', async () => {
      const wrongSecret = fixture.makeProvider({
        accounts: [{ appId: fixture.appId, secret: 'definitely-wrong-secret' }],
      });
      expect(await codeOf(wrongSecret.client().listAgents())).toBe('WECHAT_40125');
      const unknown = fixture.makeProvider({ accounts: [{ appId: 'wx-unknown-app', secret: 'whatever-secret' }] });
      expect(await codeOf(unknown.client().listAgents())).toBe('WECHAT_40013');
    });
  });
});
