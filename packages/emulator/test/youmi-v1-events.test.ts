import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import {
  YOUMI_V1_RETURN_CODE,
  type YoumiEmulatorOptions,
  type YoumiRawChat,
  youmiV1Signature,
} from '../src/youmi/index.js';

const START = Date.UTC(2026, 0, 15, 4, 30, 0);

/** A real callback receiver on loopback that answers with the scripted statuses/bodies, then `fallback`. */
async function startReceiver(
  script: Array<{ status: number; body: unknown }>,
  fallback = { status: 200, body: { ok: true } as unknown },
) {
  const received: Array<{ path: string; body: Record<string, unknown> }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const answer = script.shift() ?? fallback;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The emulator with the clock starting at START and fast callback retries. */
async function startYoumi(youmi: YoumiEmulatorOptions = {}) {
  const emulator = await startEmulator({
    seed: 'events-test',
    now: START,
    youmi: { fansPerAccount: 5, chatsPerFan: 20, callbackRetryDelayMs: 10, ...youmi },
  });
  const info = emulator.youmi;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: info.clientId,
    client_secret: info.clientSecret,
  });
  const tokenResponse = await request(info.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const { access_token: bearer } = (await tokenResponse.body.json()) as { access_token: string };
  const call = async (path: string, body: unknown) => {
    const response = await request(`${info.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.body.json()) as {
      succeed: boolean;
      errmsg: number;
      errdesc: string | null;
      values: unknown;
    };
  };
  /** A v1 call with the given headers (names as the docs spell them). */
  const v1 = async (path: string, headers: Record<string, string>, body: unknown = {}) => {
    const response = await request(`${info.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(200);
    return (await response.body.json()) as { Result: boolean; ReturnCode: number; Message: string; Data: unknown };
  };
  return {
    info,
    call,
    v1,
    nowSeconds: () => Math.floor(emulator.clock.now() / 1000),
    advance: (ms: number) => emulator.clock.advance(ms),
    close: () => emulator.stop(),
  };
}

type Youmi = Awaited<ReturnType<typeof startYoumi>>;
let youmi: Youmi;
let receivers: Array<{ close(): Promise<void> }>;
beforeEach(async () => {
  youmi = await startYoumi();
  receivers = [];
});
afterEach(async () => {
  await youmi.close();
  for (const receiver of receivers) await receiver.close();
});

async function receiver(
  script: Array<{ status: number; body: unknown }> = [],
  fallback?: { status: number; body: unknown },
) {
  const started = await startReceiver(script, fallback);
  receivers.push(started);
  return started;
}

describe('Youmi v2 callbacks and event subscriptions', () => {
  it('given a registered chat callback, when a message is sent, then the chat event is POSTed to the URL', async () => {
    const target = await receiver();
    const registered = await youmi.call('/v2/Public/registerCallbackUrl', { url: `${target.url}/youmi`, type: 'chat' });
    expect(registered).toMatchObject({ succeed: true, values: true });
    const fansKey = youmi.info.fans(10001)[0]?.fansKey;
    const sent = await youmi.call('/v2/ChatMess/doSendPublicMes', { wechatId: 10001, fansKey, content: '您好' });
    await youmi.info.whenEventsDelivered();
    expect(target.received).toHaveLength(1);
    const event = target.received[0];
    expect(event?.path).toBe('/youmi');
    expect(event?.body).toEqual({
      eventType: 'chat',
      merchantId: youmi.info.merchantId,
      msgTime: expect.stringMatching(/^2026-01-15 12:3\d:\d\d$/),
      values: expect.objectContaining({
        ad_chatting_id: (sent.values as { ad_chatting_id: number }).ad_chatting_id,
        ad_chatting_content: '您好',
        ad_chatting_issend: 1,
      }),
    });
  });

  it('given a subscription to some types, then only those events reach it, with its appId', async () => {
    const target = await receiver();
    await youmi.call('/v2/Public/subscribeEvent', {
      url: target.url,
      appId: 'crm-1',
      messageTypes: ['fansInfoChange', 'rpaTaskResult'],
    });
    expect(youmi.info.emitYoumiEvent('chat', { ignored: true })).toBe(0);
    expect(youmi.info.emitYoumiEvent('fansInfoChange', { fansKey: 'wxid_a', nickname: '新昵称' })).toBe(1);
    const fansKeys = youmi.info.fans(10001).map((fan) => fan.fansKey);
    await youmi.call('/v2/BulkSend/SaveRpaBulkSend', { wechatId: 10001, fansKeys, content: '通知' });
    await youmi.info.whenEventsDelivered();
    expect(target.received.map((event) => event.body.eventType)).toEqual(['fansInfoChange', 'rpaTaskResult']);
    expect(target.received[0]?.body).toMatchObject({ appId: 'crm-1', values: { nickname: '新昵称' } });
    expect(target.received[1]?.body.values).toMatchObject({
      status: 'finished',
      successCount: fansKeys.length,
      failCount: 0,
    });
  });

  it('given an activation that changes the owner, then fansAttributionChange is posted to an "all" callback', async () => {
    const target = await receiver();
    await youmi.call('/v2/Public/registerCallbackUrl', { url: target.url, type: 0 });
    const fan = youmi.info.fans(10001)[1];
    const staffCode = fan?.staffCode === 'S1110' ? 'S1111' : 'S1110';
    await youmi.call('/v2/ChatMess/ActivationConversation', { wechatId: 10001, fansKey: fan?.fansKey, staffCode });
    await youmi.info.whenEventsDelivered();
    expect(target.received.map((event) => event.body)).toEqual([
      expect.objectContaining({
        eventType: 'fansAttributionChange',
        values: { wechatId: 10001, fansKey: fan?.fansKey, oldStaffCode: fan?.staffCode, newStaffCode: staffCode },
      }),
    ]);
  });

  it('given a receiver failing twice with 500, then the event is retried until acknowledged', async () => {
    const target = await receiver([
      { status: 500, body: {} },
      { status: 503, body: {} },
    ]);
    await youmi.call('/v2/Public/registerCallbackUrl', { url: target.url, type: 'chat' });
    const fansKey = youmi.info.fans(10001)[0]?.fansKey as string;
    youmi.info.simulateFanMessage({ wechatId: 10001, fansKey, content: '有人吗' });
    await youmi.info.whenEventsDelivered();
    expect(target.received).toHaveLength(3);
    expect(target.received.every((event) => (event.body.values as YoumiRawChat).ad_chatting_issend === 0)).toBe(true);
    expect(youmi.info.deliveryAttempts().map((attempt) => [attempt.status, attempt.acknowledged])).toEqual([
      [500, false],
      [503, false],
      [200, true],
    ]);
  });

  it('given a receiver that always fails, when the platform closes, then deliveries stop', async () => {
    const slow = await startYoumi({ callbackRetries: 20, callbackRetryDelayMs: 200 });
    const target = await receiver([], { status: 500, body: {} });
    await slow.call('/v2/Public/registerCallbackUrl', { url: target.url, type: 'all' });
    slow.info.emitYoumiEvent('fansInfoChange', { fansKey: 'wxid_x' });
    await expect.poll(() => target.received.length).toBeGreaterThanOrEqual(1);
    await slow.close();
    const afterClose = target.received.length;
    await slow.info.whenEventsDelivered();
    // Retries would have come every 200–400 ms; none comes after close.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(target.received.length).toBe(afterClose);
    expect(afterClose).toBeLessThan(5);
  });

  it('given a bad URL or unknown event type, then registration fails with 400 naming the field', async () => {
    expect((await youmi.call('/v2/Public/registerCallbackUrl', { url: 'ftp://x', type: 'chat' })).errdesc).toMatch(
      /^url/,
    );
    expect((await youmi.call('/v2/Public/registerCallbackUrl', { url: 'http://x', type: 'order' })).errdesc).toMatch(
      /^type/,
    );
    const badSubscription = await youmi.call('/v2/Public/subscribeEvent', {
      url: 'http://x',
      appId: 'a',
      messageTypes: ['nope'],
    });
    expect(badSubscription.errdesc).toMatch(/^messageTypes\.0/);
    expect(() => youmi.info.emitYoumiEvent('nope' as 'chat', {})).toThrow(
      expect.objectContaining({ code: 'EMULATOR_YOUMI_EVENT_INVALID' }),
    );
  });
});

describe('Youmi v1 signature scheme', () => {
  const signedTokenHeaders = (appId: string, appKey: string, timestamp: number, nonce = 'n0nce123') => ({
    AppId: appId,
    Nonce: nonce,
    Timestamp: String(timestamp),
    Signature: youmiV1Signature(appKey, `${appId}${nonce}${timestamp}`),
  });
  const v1Token = async () => {
    const answer = await youmi.v1(
      '/v1/Token/GetToken',
      signedTokenHeaders(youmi.info.v1.appId, youmi.info.v1.appKey, youmi.nowSeconds()),
    );
    return (answer.Data as { access_token: string }).access_token;
  };
  const signedHeaders = (token: string, timestamp = youmi.nowSeconds(), nonce = 'abc123') => ({
    access_token: token,
    Nonce: nonce,
    Timestamp: String(timestamp),
    Signature: youmiV1Signature(youmi.info.v1.appKey, `${token}${nonce}${timestamp}`),
  });

  it('then the signature is URL-encoded Base64 of HMAC-SHA1(appKey, message)', () => {
    // Reference value computed independently: printf 'app1nonce1700000000' | openssl dgst -sha1 -hmac key -binary | base64
    expect(youmiV1Signature('key', 'app1nonce1700000000')).toBe(encodeURIComponent('6UDVDKNB2NobW0bm/gTE8eh+fZw='));
  });

  it('given a correctly signed token call, then it returns an access token', async () => {
    const answer = await youmi.v1(
      '/v1/Token/GetToken',
      signedTokenHeaders(youmi.info.v1.appId, youmi.info.v1.appKey, youmi.nowSeconds()),
    );
    expect(answer).toEqual({
      Result: true,
      ReturnCode: 200,
      Message: 'success',
      Data: { access_token: expect.any(String), expires_in: 7200 },
    });
  });

  it('given a wrong key, an unknown appId, missing headers or a raw (not URL-encoded) signature, then the matching code', async () => {
    const now = youmi.nowSeconds();
    expect(
      (await youmi.v1('/v1/Token/GetToken', signedTokenHeaders(youmi.info.v1.appId, 'wrong-key', now))).ReturnCode,
    ).toBe(YOUMI_V1_RETURN_CODE.badSignature);
    expect(
      (await youmi.v1('/v1/Token/GetToken', signedTokenHeaders('other-app', youmi.info.v1.appKey, now))).ReturnCode,
    ).toBe(YOUMI_V1_RETURN_CODE.unknownAppId);
    expect((await youmi.v1('/v1/Token/GetToken', { AppId: youmi.info.v1.appId })).ReturnCode).toBe(
      YOUMI_V1_RETURN_CODE.missingParameter,
    );
    // Find a nonce whose Base64 signature needs URL-encoding, then send it raw.
    let nonce = 0;
    let headers = signedTokenHeaders(youmi.info.v1.appId, youmi.info.v1.appKey, now, `n${nonce}`);
    while (decodeURIComponent(headers.Signature) === headers.Signature) {
      nonce += 1;
      headers = signedTokenHeaders(youmi.info.v1.appId, youmi.info.v1.appKey, now, `n${nonce}`);
    }
    const raw = { ...headers, Signature: decodeURIComponent(headers.Signature) };
    const answer = await youmi.v1('/v1/Token/GetToken', raw);
    expect(answer).toMatchObject({ Result: false, ReturnCode: YOUMI_V1_RETURN_CODE.badSignature });
  });

  it('given a timestamp more than 10 minutes old or ahead, then 200005; within the window it is accepted', async () => {
    const { appId, appKey } = youmi.info.v1;
    const now = youmi.nowSeconds();
    // The emulator clock runs in real time, so stay a few seconds clear of the boundary.
    expect((await youmi.v1('/v1/Token/GetToken', signedTokenHeaders(appId, appKey, now - 601))).ReturnCode).toBe(
      200005,
    );
    expect((await youmi.v1('/v1/Token/GetToken', signedTokenHeaders(appId, appKey, now + 660))).ReturnCode).toBe(
      200005,
    );
    expect((await youmi.v1('/v1/Token/GetToken', signedTokenHeaders(appId, appKey, now - 590))).ReturnCode).toBe(200);
    expect((await youmi.v1('/v1/Token/GetToken', signedTokenHeaders(appId, appKey, now + 590))).ReturnCode).toBe(200);
  });

  it('given a v1 token, when the chat list is read with signed headers, then it returns the same chats as v2', async () => {
    const token = await v1Token();
    const fansKey = youmi.info.fans(10002)[2]?.fansKey as string;
    const answer = await youmi.v1('/v1/ChatMess/GetChatList', signedHeaders(token), {
      wechatId: 10002,
      fansKey,
      pageIndex: 1,
      pageSize: 100,
    });
    expect(answer.ReturnCode).toBe(200);
    expect(answer.Data).toEqual(
      youmi.info.expectedChats({ wechatId: 10002, fansKey, from: new Date(0), to: new Date(START) }),
    );
    const fans = await youmi.v1('/v1/Friend/GetFansList', signedHeaders(token), {
      wechatId: 10002,
      pageIndex: '1',
      pageSize: '3',
    });
    expect(fans.Data).toEqual(youmi.info.fans(10002).slice(0, 3));
  });

  it('given a data call signed with a stale timestamp, a bad signature, a bad token or an expired token, then it is refused', async () => {
    const token = await v1Token();
    const body = { wechatId: 10001, fansKey: youmi.info.fans(10001)[0]?.fansKey, pageIndex: 1, pageSize: 10 };
    expect(
      (await youmi.v1('/v1/ChatMess/GetChatList', signedHeaders(token, youmi.nowSeconds() - 900), body)).ReturnCode,
    ).toBe(200005);
    const forged = { ...signedHeaders(token), Signature: 'AAAA' };
    expect((await youmi.v1('/v1/ChatMess/GetChatList', forged, body)).ReturnCode).toBe(
      YOUMI_V1_RETURN_CODE.badSignature,
    );
    expect((await youmi.v1('/v1/ChatMess/GetChatList', signedHeaders('not-a-token'), body)).ReturnCode).toBe(
      YOUMI_V1_RETURN_CODE.badToken,
    );
    expect(
      (await youmi.v1('/v1/ChatMess/GetChatList', signedHeaders(token), { ...body, wechatId: 'x' })).ReturnCode,
    ).toBe(YOUMI_V1_RETURN_CODE.badParameter);
    youmi.advance(7200_000);
    expect((await youmi.v1('/v1/ChatMess/GetChatList', signedHeaders(token), body)).ReturnCode).toBe(
      YOUMI_V1_RETURN_CODE.badToken,
    );
  });

  it('given a v1 callback URL, then events arrive as {Type, MerchantId, MsgTime, Values} and only {Result: true, ReturnCode: 200} acknowledges', async () => {
    const target = await receiver([{ status: 200, body: { Result: false, ReturnCode: 500, Message: 'busy' } }], {
      status: 200,
      body: { Result: true, ReturnCode: 200, Message: 'ok' },
    });
    const token = await v1Token();
    const set = await youmi.v1('/v1/Public/SetCallbackUrl', signedHeaders(token), { url: target.url });
    expect(set.Result).toBe(true);
    youmi.info.emitYoumiEvent('fansInfoChange', { fansKey: 'wxid_a' });
    await youmi.info.whenEventsDelivered();
    expect(target.received.map((event) => event.body)).toEqual([
      {
        Type: 'fansInfoChange',
        MerchantId: youmi.info.merchantId,
        MsgTime: expect.stringMatching(/^2026-01-15 12:3\d:\d\d$/),
        Values: { fansKey: 'wxid_a' },
      },
      {
        Type: 'fansInfoChange',
        MerchantId: youmi.info.merchantId,
        MsgTime: expect.stringMatching(/^2026-01-15 12:3\d:\d\d$/),
        Values: { fansKey: 'wxid_a' },
      },
    ]);
  });
});
