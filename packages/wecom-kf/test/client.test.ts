import { isKefuError, MemoryTokenStore, type ProviderRetry, undiciHttpClientFactory } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WecomKfClient, WecomKfProvider, WecomTokenManager, wecomTokenKey } from '../src/index.js';
import { startWecomFakePlatform, textItems, type WecomFakePlatform } from './support/wecom-fake-platform.js';

const CORP = 'ww0123456789abcdef';
const SECRET = 'kf-app-secret-xyz';

let platform: WecomFakePlatform | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await platform?.stop();
  platform = undefined;
});

async function clientFor(options: { faults?: Record<string, number[]>; secret?: string } = {}) {
  platform = await startWecomFakePlatform({
    corpId: CORP,
    secret: SECRET,
    items: textItems('wkA', 3, Math.floor(Date.now() / 1000) - 60),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const http = undiciHttpClientFactory.create({ baseUrl: platform.url, retry: false });
  closers.push(() => http.close());
  const tokens = new WecomTokenManager({
    corpId: CORP,
    secret: options.secret ?? SECRET,
    http,
    store: new MemoryTokenStore(),
  });
  const client = new WecomKfClient({
    corpId: CORP,
    http,
    tokens,
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 },
  });
  return { client, tokens, platform };
}

describe('WecomTokenManager (gettoken through the shared token manager)', () => {
  it('keys tokens per app (corp id + secret digest) and never puts the secret in the key', () => {
    const key = wecomTokenKey(CORP, SECRET);
    expect(key).toMatch(/^wecom:ww0123456789abcdef:[0-9a-f]{16}$/);
    expect(key).not.toContain(SECRET);
    expect(wecomTokenKey(CORP, 'another-app-secret')).not.toBe(key);
  });

  it('given many concurrent calls, when no token is stored, then gettoken is called once (single-flight)', async () => {
    const { client, platform } = await clientFor();
    await Promise.all(Array.from({ length: 8 }, () => client.syncMsg({ open_kfid: 'wkA' })));
    expect(platform.gettokenCalls).toBe(1);
  });

  it('given 40014 from a call, when retried, then the refused token is invalidated, a new one fetched once, and the call succeeds', async () => {
    const { client, tokens, platform } = await clientFor({ faults: { 'kf/sync_msg': [40014] } });
    const page = await client.syncMsg({ open_kfid: 'wkA' });
    expect(page.msg_list).toHaveLength(3);
    expect(tokens.refreshCount).toBe(2);
    expect(platform.gettokenCalls).toBe(2);
  });

  it('given 42001 twice, when called, then it refreshes only once and surfaces WECOM_42001', async () => {
    const { client, tokens } = await clientFor({ faults: { 'kf/sync_msg': [42001, 42001] } });
    await expect(client.syncMsg({ open_kfid: 'wkA' })).rejects.toMatchObject({ code: 'WECOM_42001' });
    expect(tokens.refreshCount).toBe(2);
  });

  it('given a wrong secret, when a token is fetched, then WECOM_40001 says which secret to use, without the secret', async () => {
    const { client } = await clientFor({ secret: 'not-the-secret' });
    const error = await client.syncMsg({ open_kfid: 'wkA' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WECOM_40001' });
    expect(JSON.stringify(error)).not.toContain('not-the-secret');
  });
});

describe('WecomKfClient', () => {
  it('retries errcode -1 with back-off and reports each retry to onRetry', async () => {
    const { client } = await clientFor({ faults: { 'kf/sync_msg': [-1, -1] } });
    const retries: ProviderRetry[] = [];
    const page = await client.syncMsg({ open_kfid: 'wkA' }, { onRetry: (retry) => retries.push(retry) });
    expect(page.has_more).toBe(false);
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2]);
  });

  it('maps kf errcodes to the catalogue (95018: the session state forbids sending) and never retries a send', async () => {
    const { client, platform } = await clientFor({ faults: { 'kf/send_msg': [95018] } });
    const error = await client
      .sendMessage({ touser: 'wm_customer_0', open_kfid: 'wkA', msgtype: 'text', text: { content: 'hi' } })
      .catch((caught: unknown) => caught);
    expect(isKefuError(error) && error.code).toBe('WECOM_95018');
    expect(platform.calls.filter((call) => call.path === 'kf/send_msg')).toHaveLength(1);
  });

  it('gives unknown errcodes WECOM_UNKNOWN_ERRCODE with the code in details', async () => {
    const { client } = await clientFor({ faults: { 'kf/sync_msg': [12345] } });
    await expect(client.syncMsg({ open_kfid: 'wkA' })).rejects.toMatchObject({
      code: 'WECOM_UNKNOWN_ERRCODE',
      details: expect.objectContaining({ errcode: 12345 }),
    });
  });

  it('refuses invalid requests before calling: limit over 1000, a state-3 transfer without a servicer, 101 userids, a bad msgid', async () => {
    const { client, platform } = await clientFor();
    await expect(client.syncMsg({ open_kfid: 'wkA', limit: 1001 })).rejects.toMatchObject({
      code: 'WECOM_INVALID_REQUEST',
    });
    await expect(
      client.transServiceState({ open_kfid: 'wkA', external_userid: 'wm1', service_state: 3 }),
    ).rejects.toMatchObject({ code: 'WECOM_INVALID_REQUEST', message: expect.stringContaining('servicer_userid') });
    await expect(
      client.addServicers({ open_kfid: 'wkA', userid_list: Array.from({ length: 101 }, (_, i) => `u${i}`) }),
    ).rejects.toMatchObject({ code: 'WECOM_INVALID_REQUEST' });
    await expect(
      client.sendMessage({
        touser: 'wm1',
        open_kfid: 'wkA',
        msgid: 'has space',
        msgtype: 'text',
        text: { content: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'WECOM_INVALID_REQUEST' });
    expect(platform.calls.filter((call) => call.path !== 'gettoken')).toHaveLength(0);
  });

  it('lists servicers with GET and accounts with POST paging', async () => {
    const { client, platform } = await clientFor();
    const servicers = await client.listServicers('wkA');
    expect(servicers.map((s) => s.userid ?? s.department_id)).toEqual(['zhangsan', 'lisi', 2]);
    const accounts = await client.listAllAccounts();
    expect(accounts.map((a) => a.open_kfid)).toEqual(['wkA']);
    expect(platform.calls.find((call) => call.path === 'kf/account/list')?.body).toEqual({ offset: 0, limit: 100 });
  });
});

describe('WecomKfProvider messaging, agents, media', () => {
  it('given a sent message, when send_msg succeeds, then an outbound record is returned and handed to onRecordSent', async () => {
    platform = await startWecomFakePlatform({ corpId: CORP, secret: SECRET, items: [] });
    const provider = new WecomKfProvider({
      corpId: CORP,
      secret: SECRET,
      accounts: [{ openKfId: 'wkA' }],
      baseUrl: platform.url,
    });
    closers.push(() => provider.close());
    const seen: string[] = [];
    provider.onRecordSent((record) => seen.push(record.id));
    const record = await provider.send({ customer: 'wm_customer_0', message: { kind: 'text', text: 'hello' } });
    expect(record).toMatchObject({
      provider: 'wecom-kf',
      account: 'wkA',
      customer: 'wm_customer_0',
      direction: 'outbound',
      kind: 'text',
      text: 'hello',
    });
    expect(record.raw).toMatchObject({ source: 'kf/send_msg', msgtype: 'text' });
    expect(seen).toEqual([record.id]);
    expect(platform.sent[0]).toEqual({
      touser: 'wm_customer_0',
      open_kfid: 'wkA',
      msgtype: 'text',
      text: { content: 'hello' },
    });
  });

  it('lists servicers as agents (status 0 = on duty) and downloads media with media/get', async () => {
    platform = await startWecomFakePlatform({
      corpId: CORP,
      secret: SECRET,
      items: [],
      media: { MEDIA_1: Buffer.from('jpegbytes') },
    });
    const provider = new WecomKfProvider({
      corpId: CORP,
      secret: SECRET,
      accounts: [{ openKfId: 'wkA' }],
      baseUrl: platform.url,
    });
    closers.push(() => provider.close());
    expect(await provider.listAgents()).toEqual([
      { id: 'zhangsan', account: 'wkA', name: 'zhangsan', online: true },
      { id: 'lisi', account: 'wkA', name: 'lisi', online: false },
    ]);
    const media = await provider.downloadMedia('wkA', 'MEDIA_1');
    expect(media.data.toString()).toBe('jpegbytes');
    await expect(provider.downloadMedia('wkA', 'GONE')).rejects.toMatchObject({ code: 'WECOM_UNKNOWN_ERRCODE' });
  });
});
