import type { KefuRecord } from '@kefu/core';
import { filter, firstValueFrom, from, type Observable, take, timeout, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { youmiCallbackSignature } from '../src/callback-auth.js';
import { mergeWithoutDuplicates, YoumiCallbackReceiver, type YoumiReceivedEvent } from '../src/callback-receiver.js';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

const PATH_SECRET = 'callback-receiver-path-secret-0123';
const AUTH = { pathSecret: PATH_SECRET };

/** The listening URL (which ends in the path secret) with `path` before the secret. */
function at(url: string, path: string): string {
  return `${url.slice(0, -PATH_SECRET.length)}${path}/${PATH_SECRET}`;
}

let running: YoumiEmulator | undefined;
let receiver: YoumiCallbackReceiver | undefined;
const providers: YoumiProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await running?.emulator.stop();
  await receiver?.close();
  running = undefined;
  receiver = undefined;
});

/** The next `count` events matching `predicate`, failing after 10 s instead of hanging. */
function nextEvents(
  events: Observable<YoumiReceivedEvent>,
  count: number,
  predicate: (event: YoumiReceivedEvent) => boolean = () => true,
) {
  return firstValueFrom(events.pipe(filter(predicate), take(count), toArray(), timeout(10_000)));
}

async function post(url: string, body: unknown, method = 'POST') {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('YoumiCallbackReceiver with events posted by the emulator', () => {
  it('receives, validates and publishes v2 events of every kind the calls trigger', async () => {
    running = await startYoumiEmulator();
    const emulator = running;
    const provider = new YoumiProvider(emulator.config(), { now: () => emulator.emulator.clock.now() });
    providers.push(provider);
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH, wechatIds: [10001] });
    const { url } = await receiver.listen();
    await provider.client.registerCallbackUrl(at(url, 'youmi/events'), 100);
    await provider.client.subscribeEvent({
      url: at(url, 'youmi/rpa'),
      appId: 'kefu-test',
      messageTypes: ['rpaTaskResult'],
    });
    const fan = emulator.youmi.fans(10001).find((candidate) => candidate.staffCode !== null)?.fansKey as string;
    const other =
      emulator.youmi.fans(10001).find((candidate) => candidate.fansKey === fan)?.staffCode === 'S1210'
        ? 'S1211'
        : 'S1210';

    const arriving = nextEvents(receiver.events, 4);
    await provider.client.sendMessage({ wechatId: 10001, toUserName: fan, msgType: 'text', text: '回调测试' });
    await provider.client.activateConversation({
      friendWechatId: fan,
      wechatId: 10001,
      staffCode: other,
      enforceAttribution: 1,
      content: '',
    });
    await provider.client.saveBulkSendTask({ taskContent: [{ type: '0', data: { content: '群发' } }] });
    const events = await arriving;

    const types = events.map((e) => e.eventType).sort();
    // The bulk-send result goes to the registered URL and to the subscription.
    expect(types).toEqual(['chat', 'fansAttributionChange', 'rpaTaskResult', 'rpaTaskResult']);
    expect(events.every((e) => e.format === 'v2' && e.merchantId === emulator.youmi.merchantId)).toBe(true);
    expect(events.find((e) => e.appId)?.appId).toBe('kefu-test');
    const chat = events.find((e) => e.eventType === 'chat');
    expect(chat?.records).toEqual([
      expect.objectContaining({
        provider: 'youmi',
        account: '10001',
        customer: fan,
        direction: 'outbound',
        text: '回调测试',
      }),
    ]);
  });

  it('receives events the platform pushes on its own (fan profile changes, fan messages) and acknowledges them', async () => {
    running = await startYoumiEmulator();
    const emulator = running;
    const provider = new YoumiProvider(emulator.config(), { now: () => emulator.emulator.clock.now() });
    providers.push(provider);
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH });
    const { url } = await receiver.listen();
    await provider.client.registerCallbackUrl(url, 100);
    const fan = emulator.youmi.fans(10001)[4]?.fansKey as string;

    const arriving = nextEvents(receiver.events, 2);
    emulator.youmi.emitYoumiEvent('fansInfoChange', { wechatId: 10001, fansKey: fan, nickname: '新昵称' });
    const chat = emulator.youmi.simulateFanMessage({ wechatId: 10001, fansKey: fan, content: '在吗？' });
    const events = await arriving;
    await emulator.youmi.whenEventsDelivered();

    expect(events.map((e) => e.eventType)).toEqual(['fansInfoChange', 'chat']);
    expect(events[0]?.values).toEqual({ wechatId: 10001, fansKey: fan, nickname: '新昵称' });
    expect(events[1]?.records).toEqual([
      expect.objectContaining({
        id: `10001:${chat.ad_chatting_id}`,
        direction: 'inbound',
        text: '在吗？',
        customer: fan,
      }),
    ]);
    // Every delivery was acknowledged on its first attempt: the answers have the documented format.
    expect(emulator.youmi.deliveryAttempts().map((a) => [a.attempt, a.acknowledged])).toEqual([
      [1, true],
      [1, true],
    ]);
  });

  it('merges live chat events with the backfill without duplicates, by the same record ids', async () => {
    running = await startYoumiEmulator();
    const emulator = running;
    const provider = new YoumiProvider(emulator.config(), { now: () => emulator.emulator.clock.now() });
    providers.push(provider);
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH });
    const { url } = await receiver.listen();
    await provider.client.registerCallbackUrl(url, 200);
    const fans = emulator.youmi.fans(10001);

    const liveArriving = firstValueFrom(receiver.records.pipe(take(3), toArray(), timeout(10_000)));
    for (const [index, fan] of [fans[0], fans[5], fans[11]].entries()) {
      emulator.emulator.clock.advance(1_000);
      await provider.client.sendMessage({
        wechatId: 10001,
        toUserName: fan?.fansKey as string,
        msgType: 'text',
        text: `live ${index}`,
      });
    }
    const live = await liveArriving;
    emulator.emulator.clock.advance(1_000);

    const backfill = provider.records({
      account: '10001',
      from: emulator.start - 86_400_000,
      to: emulator.emulator.clock.now(),
    });
    const merged = await firstValueFrom(mergeWithoutDuplicates(backfill, from(live)).pipe(toArray()));
    const backfilled = await firstValueFrom(backfill.pipe(toArray()));

    const ids = merged.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(backfilled.map((r) => r.id)));
    // The live records are the very records the backfill reads.
    for (const record of live) {
      expect(backfilled.find((r) => r.id === record.id)).toEqual(record);
    }
  });

  it('given the v1 callback URL set in the back office, then a chat arrives as {Type 4, MerchantId number, MsgTime seconds} and is answered {Result, ReturnCode, Message}', async () => {
    running = await startYoumiEmulator();
    const emulator = running;
    const provider = new YoumiProvider(emulator.config(), { now: () => emulator.emulator.clock.now() });
    providers.push(provider);
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH });
    const { url } = await receiver.listen();
    emulator.youmi.setV1CallbackUrl(at(url, 'v1'));

    const arriving = nextEvents(receiver.events, 1, (e) => e.format === 'v1');
    const fan = emulator.youmi.fans(10001)[1]?.fansKey as string;
    const chat = emulator.youmi.simulateFanMessage({ wechatId: 10001, fansKey: fan, content: 'v1 回调' });
    const [event] = await arriving;
    await emulator.youmi.whenEventsDelivered();
    expect(event).toMatchObject({
      format: 'v1',
      eventType: 'chat',
      v1Type: 4,
      merchantId: emulator.youmi.merchantId,
      msgTime: new Date(Math.floor(emulator.emulator.clock.now() / 1000) * 1000).toISOString(),
    });
    // The emulator only counts a v1 delivery as acknowledged on {Result: true, ReturnCode: 200}.
    expect(emulator.youmi.deliveryAttempts()).toEqual([expect.objectContaining({ attempt: 1, acknowledged: true })]);
    expect(event?.records.map((r) => r.id)).toEqual([`10001:${chat.ad_chatting_id}`]);
  });

  it('given the documented v1 callback example, then it is accepted and answered as documented', async () => {
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH });
    const { url } = await receiver.listen();
    const arriving = nextEvents(receiver.events, 1);
    // 回调数据 (platforms/youmi-api.md §3): MerchantId is the number 9527, MsgTime Unix seconds.
    const example = {
      Type: 0,
      MerchantId: 9527,
      MsgTime: 1600239001,
      Values: { ad_friend_id: 11, ad_friend_uwenober: 'wxid_u', ad_friend_wenober: 'wxid_w' },
    };
    const answer = await post(url, example);
    expect(answer).toEqual({ status: 200, body: { Result: true, ReturnCode: 200, Message: '操作完成' } });
    expect(await arriving).toEqual([
      {
        format: 'v1',
        eventType: 'v1:0',
        v1Type: 0,
        merchantId: '9527',
        msgTime: '2020-09-16T06:50:01.000Z',
        values: example.Values,
        records: [],
      },
    ]);
  });

  it('answers 400 to invalid bodies and 405 to other methods, publishing nothing', async () => {
    receiver = new YoumiCallbackReceiver({ callbacks: AUTH });
    const { url } = await receiver.listen();
    const published: YoumiReceivedEvent[] = [];
    receiver.events.subscribe((event) => published.push(event));

    const notJson = await post(url, '{"eventType":');
    expect(notJson.status).toBe(400);
    const noType = await post(url, { merchantId: 'M1', values: {} });
    expect(noType).toMatchObject({
      status: 400,
      body: { succeed: false, errdesc: expect.stringContaining('eventType') },
    });
    const badChat = await post(url, { eventType: 'chat', merchantId: 'M1', values: { ad_chatting_id: 1 } });
    expect(badChat).toMatchObject({ status: 400, body: { errdesc: expect.stringContaining('ad_chatting_talter') } });
    const badV1 = await post(url, { Type: 'fansInfoChange', Values: {} });
    expect(badV1).toMatchObject({ status: 400, body: { Result: false, ReturnCode: 400 } });
    const get = await fetch(url);
    expect(get.status).toBe(405);
    await get.body?.cancel();
    expect(published).toEqual([]);

    const unknown = await post(url, { eventType: 'somethingNew', values: [1] });
    expect(unknown.status).toBe(200);
    expect(published.map((e) => e.eventType)).toEqual(['somethingNew']);
  });
});

describe('mergeWithoutDuplicates', () => {
  const record = (id: string) => ({ id }) as KefuRecord;

  it('drops repeated ids within its window and forgets older ones, so memory stays bounded', async () => {
    const run = (window: number) =>
      firstValueFrom(
        mergeWithoutDuplicates(from(['a', 'b', 'c', 'a'].map(record)), from(['b'].map(record)), { window }).pipe(
          toArray(),
        ),
      ).then((records) => records.map((r) => r.id));
    // Window 3 remembers a, b and c: the repeats are dropped.
    expect(await run(3)).toEqual(['a', 'b', 'c']);
    // Window 2 forgot 'a' when 'c' came, and 'b' when 'a' came again.
    expect(await run(2)).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('given a forged, unsigned or badly signed push, then it is refused 401/403 with a typed reason and nothing is published', async () => {
    const hmacSecret = 'callback-receiver-hmac-secret';
    receiver = new YoumiCallbackReceiver({ callbacks: { pathSecret: PATH_SECRET, hmacSecret } });
    const { url } = await receiver.listen();
    const published: YoumiReceivedEvent[] = [];
    receiver.events.subscribe((event) => published.push(event));
    const event = JSON.stringify({ eventType: 'fansInfoChange', merchantId: 'M1', values: {} });
    const send = async (target: string, headers: Record<string, string> = {}) => {
      const response = await fetch(target, { method: 'POST', headers, body: event });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const now = String(Math.floor(Date.now() / 1000));
    const signed = { 'x-kefu-timestamp': now, 'x-kefu-signature': youmiCallbackSignature(hmacSecret, now, event) };

    expect(await send(`${url.slice(0, -PATH_SECRET.length)}guessed`, signed)).toMatchObject({
      status: 403,
      body: { succeed: false, reason: 'bad_path_secret' },
    });
    expect(await send(url)).toMatchObject({ status: 401, body: { reason: 'unsigned' } });
    const forged = { ...signed, 'x-kefu-signature': youmiCallbackSignature('not-the-secret', now, event) };
    expect(await send(url, forged)).toMatchObject({ status: 401, body: { reason: 'bad_signature' } });
    const stale = String(Number(now) - 3600);
    const old = { 'x-kefu-timestamp': stale, 'x-kefu-signature': youmiCallbackSignature(hmacSecret, stale, event) };
    expect(await send(url, old)).toMatchObject({ status: 401, body: { reason: 'stale_timestamp' } });
    // Body-level use (frameworks that read the body) is authenticated the same way.
    expect(receiver.accept({ path: '/youmi/x', headers: signed, body: Buffer.from(event) })).toMatchObject({
      status: 403,
    });
    expect(published).toEqual([]);

    expect(await send(url, signed)).toMatchObject({ status: 200 });
    expect(published.map((received) => received.eventType)).toEqual(['fansInfoChange']);
  });

  it('given no authentication, then the receiver cannot be created', () => {
    expect(() => new YoumiCallbackReceiver({ callbacks: {} })).toThrow(
      expect.objectContaining({ code: 'YOUMI_CONFIG_INVALID' }),
    );
    expect(() => new (YoumiCallbackReceiver as new () => YoumiCallbackReceiver)()).toThrow(
      expect.objectContaining({ code: 'YOUMI_CONFIG_INVALID' }),
    );
  });
});
