import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { V1_CALLBACK_TYPES, YOUMI_ERRMSG, youmiV1Signature } from '../src/youmi/index.js';
import { startYoumi, v1Sign, YOUMI_TEST_START, type YoumiUnderTest } from './youmi-support.js';

// v1 as platforms/youmi-api.md §1.2 and §3 document it.

/** A real callback receiver on loopback that answers with the scripted statuses/bodies, then `fallback`. */
async function startReceiver(
  script: Array<{ status: number; body: unknown }>,
  fallback = { status: 200, body: { ok: true } as unknown },
) {
  const received: Array<{ body: Record<string, unknown>; contentType: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        contentType: req.headers['content-type'],
      });
      const answer = script.shift() ?? fallback;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let youmi: YoumiUnderTest;
beforeAll(async () => {
  youmi = await startYoumi('v1-test', {
    wechatIds: [10001],
    fansPerAccount: 5,
    chatsPerFan: 10,
    callbackRetryDelayMs: 10,
  });
});
afterAll(() => youmi.close());

async function accessToken(): Promise<string> {
  const answer = await youmi.v1Token();
  return (answer.body.values as { access_token: string }).access_token;
}

describe('Youmi v1 token: POST …/publicapi/v1/GetAccessToken?format=json (§1.2)', () => {
  afterEach(() => {
    youmi.info.setReadings({ v1ExpiresIn: 'epoch' });
  });

  it('then the signature is URL-encoded Base64 of HMAC-SHA1(appKey, AppId + Nonce + Timestamp)', () => {
    expect(youmiV1Signature('key', 'message')).toBe('IIjfdNXyFGtIFGyvSWU3fp0L46Q%3D');
  });

  it('given a JSON body {AppId, Nonce, Timestamp, Signature} as text/json, then errmsg 10004 with an absolute expires_in', async () => {
    const answer = await youmi.v1Token();
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      requestId: null,
      errmsg: 10004,
      succeed: true,
      msgTime: expect.any(String),
      values: { access_token: expect.any(String), expires_in: Math.floor(youmi.now() / 1000) + 604_800 },
      errdesc: '',
    });
  });

  it('given the seconds reading, then expires_in is a lifetime', async () => {
    youmi.info.setReadings({ v1ExpiresIn: 'seconds' });
    expect(((await youmi.v1Token()).body.values as { expires_in: number }).expires_in).toBe(604_800);
  });

  it('given Timestamp as a number (the table) or a string (the example), and a bare or encoded Signature, then a token', async () => {
    const timestamp = Math.floor(youmi.now() / 1000);
    const message = `${youmi.info.v1.appId}n0nce${timestamp}`;
    for (const overrides of [
      { Timestamp: timestamp, Signature: v1Sign(youmi.info.v1.appKey, message) },
      { Timestamp: String(timestamp), Signature: v1Sign(youmi.info.v1.appKey, message, false) },
      // .NET's HttpUtility.UrlEncode writes lower-case hex, as the doc's example `…%3d`.
      {
        Timestamp: String(timestamp),
        Signature: v1Sign(youmi.info.v1.appKey, message).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      },
    ]) {
      expect((await youmi.v1Token(overrides)).body.errmsg).toBe(10004);
    }
  });

  it.each([
    [{ AppId: '' }, YOUMI_ERRMSG.appIdMissing],
    [{ Nonce: '' }, YOUMI_ERRMSG.nonceMissing],
    [{ Timestamp: '' }, YOUMI_ERRMSG.timestampMissing],
    [{ Signature: '' }, YOUMI_ERRMSG.signatureMissing],
    [{ Signature: 'bm90IGl0' }, YOUMI_ERRMSG.wrongKey],
    [{ Timestamp: String(Math.floor(YOUMI_TEST_START / 1000) - 601) }, YOUMI_ERRMSG.requestExpired],
  ])('given %j, then errmsg %i with succeed false', async (overrides, code) => {
    expect((await youmi.v1Token(overrides)).body).toMatchObject({ succeed: false, errmsg: code });
  });
});

describe('Youmi v1 data calls with signed headers (§1.2, §3)', () => {
  it('given GET /v1/WeCaht, then the operating accounts with their ad_wechat_* fields, errmsg 20000', async () => {
    const answer = await youmi.v1Call('/WeCaht', await accessToken());
    expect(answer.body).toMatchObject({ succeed: true, errmsg: 20000 });
    expect(answer.body.values).toEqual([
      expect.objectContaining({
        ad_wechat_id: 10001,
        ad_wechat_nober: expect.any(String),
        ad_wechat_nick: expect.any(String),
      }),
    ]);
    expect((await youmi.v1Call('/WeCaht?ad_wechat_lei=3', await accessToken())).body.values).toEqual([]);
  });

  it('given GET /v1/friend with Wechat_id, Page and PageSize, then pages of friends; without parameters the first 20', async () => {
    const token = await accessToken();
    const first = (await youmi.v1Call('/friend?Wechat_id=10001&Page=1&PageSize=3', token)).body.values as Array<{
      ad_friend_wenober: string;
    }>;
    const second = (await youmi.v1Call('/friend?Wechat_id=10001&Page=2&PageSize=3', token)).body.values as typeof first;
    expect([...first, ...second].map((friend) => friend.ad_friend_wenober)).toEqual(
      youmi.info.fans(10001).map((fan) => fan.fansKey),
    );
    expect(((await youmi.v1Call('/friend', token)).body.values as unknown[]).length).toBe(5);
  });

  it('given POST /v1/friend/Add_Friend with its four required fields, then values true; without one, 200012', async () => {
    const token = await accessToken();
    const body = { ReceiVerId: 10001, Wechat_Moble: '13800000000', GreeTing: '你好', PcKid: 'pc-1' };
    expect((await youmi.v1Call('/friend/Add_Friend', token, { method: 'POST', body })).body).toEqual({
      requestId: null,
      errmsg: 20000,
      succeed: true,
      msgTime: expect.any(String),
      values: true,
      errdesc: '',
    });
    const { PcKid: _dropped, ...missing } = body;
    expect((await youmi.v1Call('/friend/Add_Friend', token, { method: 'POST', body: missing })).body.errmsg).toBe(
      YOUMI_ERRMSG.badParameters,
    );
  });

  it('given missing headers, a stale timestamp, a bad signature or a revoked token, then the documented codes', async () => {
    const token = await accessToken();
    expect((await youmi.v1Call('/WeCaht', '')).body.errmsg).toBe(YOUMI_ERRMSG.accessTokenMissing);
    expect((await youmi.v1Call('/WeCaht', token, { headers: { nonce: '' } })).body.errmsg).toBe(
      YOUMI_ERRMSG.nonceMissing,
    );
    expect((await youmi.v1Call('/WeCaht', token, { headers: { signature: '' } })).body.errmsg).toBe(
      YOUMI_ERRMSG.signatureMissing,
    );
    expect((await youmi.v1Call('/WeCaht', token, { headers: { signature: 'bad' } })).body.errmsg).toBe(
      YOUMI_ERRMSG.wrongKey,
    );
    expect(
      (await youmi.v1Call('/WeCaht', token, { timestamp: Math.floor(youmi.now() / 1000) - 700 })).body.errmsg,
    ).toBe(YOUMI_ERRMSG.requestExpired);
    youmi.info.revokeTokens();
    expect((await youmi.v1Call('/WeCaht', token)).body).toMatchObject({
      succeed: false,
      errmsg: YOUMI_ERRMSG.tokenInvalid,
    });
    expect((await youmi.v1Call('/NoSuchCall', token)).status).toBe(404);
  });
});

describe('Youmi callbacks', () => {
  it('given a v1 callback URL set in the back office, then a chat arrives as text/json {Type 4, MerchantId (number), MsgTime (Unix seconds), Values}', async () => {
    const target = await startReceiver([], {
      status: 200,
      body: { Result: true, ReturnCode: 200, Message: '操作完成' },
    });
    try {
      youmi.info.setV1CallbackUrl(target.url);
      const fansKey = youmi.info.fans(10001)[0]?.fansKey as string;
      // The event is stamped when it is sent, which may fall in the next second on a busy machine.
      const sentFrom = Math.floor(youmi.now() / 1000);
      const chat = youmi.info.simulateFanMessage({ wechatId: 10001, fansKey, content: '在吗' });
      await youmi.info.whenEventsDelivered();
      const sentBy = Math.floor(youmi.now() / 1000);
      expect(target.received).toEqual([
        {
          contentType: expect.stringMatching(/^text\/json/),
          body: {
            Type: V1_CALLBACK_TYPES.chat,
            MerchantId: Number(youmi.info.merchantId),
            MsgTime: expect.toSatisfy((seconds: number) => seconds >= sentFrom && seconds <= sentBy),
            Values: chat,
          },
        },
      ]);
    } finally {
      youmi.info.setV1CallbackUrl(undefined);
      await target.close();
    }
  });

  it('given a v1 receiver answering anything but {Result: true, ReturnCode: 200}, then the event is retried until it does', async () => {
    const target = await startReceiver(
      [
        { status: 200, body: { ok: true } },
        { status: 200, body: { Result: false, ReturnCode: 500, Message: 'busy' } },
      ],
      { status: 200, body: { Result: true, ReturnCode: 200, Message: '操作完成' } },
    );
    try {
      youmi.info.setV1CallbackUrl(target.url);
      const before = youmi.info.deliveryAttempts().length;
      youmi.info.emitYoumiEvent('fansInfoChange', { ad_friend_id: 1, ad_friend_uwenober: 'u', ad_friend_wenober: 'w' });
      await youmi.info.whenEventsDelivered();
      expect(target.received.map((event) => event.body.Type)).toEqual([2, 2, 2]);
      expect(
        youmi.info
          .deliveryAttempts()
          .slice(before)
          .map((attempt) => attempt.acknowledged),
      ).toEqual([false, false, true]);
    } finally {
      youmi.info.setV1CallbackUrl(undefined);
      await target.close();
    }
  });

  it('given a receiver that always fails, when the platform closes, then no delivery is left to retry', async () => {
    const slow = await startYoumi('closing', {
      wechatIds: [10001],
      fansPerAccount: 2,
      chatsPerFan: 4,
      callbackRetries: 20,
      callbackRetryDelayMs: 200,
    });
    const target = await startReceiver([], { status: 500, body: {} });
    try {
      await slow.call('/v2/Public/registerCallbackUrl', { url: target.url, type: 200 });
      slow.info.emitYoumiEvent('fansInfoChange', { fansKey: 'wxid_x' });
      await expect.poll(() => target.received.length).toBeGreaterThanOrEqual(1);
      await slow.close();
      await slow.info.whenEventsDelivered();
      const attempts = slow.info.deliveryAttempts().length;
      expect(attempts).toBe(target.received.length);
      expect(attempts).toBeLessThan(5);
    } finally {
      await target.close();
    }
  });
});

describe('Youmi control endpoints under /__emulator/youmi/', () => {
  const control = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await request(`${youmi.info.baseUrl}/__emulator/youmi/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };
  const errorMessage = (body: Record<string, unknown>) => {
    const error = body.error as { code: string; message: string };
    return `${error.code}: ${error.message}`;
  };

  it('then readings can be read and changed over HTTP, and a bad value is a 400 naming the field', async () => {
    expect((await control('GET', 'readings')).body.readings).toMatchObject({ chatOrder: 'id', endBound: 'inclusive' });
    expect((await control('POST', 'readings', { endBound: 'exclusive' })).body.readings).toMatchObject({
      endBound: 'exclusive',
    });
    expect(youmi.info.readings().endBound).toBe('exclusive');
    const bad = await control('POST', 'readings', { chatIds: 'fan' });
    expect(bad.status).toBe(400);
    expect(errorMessage(bad.body)).toContain('chatIds');
    await control('POST', 'readings', { endBound: 'inclusive' });
  });

  it('then a late upload scheduled over HTTP shows in the ground truth over HTTP once the clock reaches it', async () => {
    const fansKey = youmi.info.fans(10001)[2]?.fansKey as string;
    const time = new Date(YOUMI_TEST_START - 86_400_000).toISOString();
    const arriveAt = new Date(youmi.now() + 5_000).toISOString();
    expect(
      (await control('POST', 'late-uploads', { wechatId: 10001, fansKey, time, arriveAt, content: 'HTTP 补传' }))
        .status,
    ).toBe(200);
    const truth = async () => {
      const answer = await control(
        'GET',
        `expected-chats?wechatId=10001&fansKey=${fansKey}&from=0&to=${Math.floor(YOUMI_TEST_START / 1000)}`,
      );
      return (answer.body.chats as Array<{ ad_chatting_content: string }>).map((chat) => chat.ad_chatting_content);
    };
    expect(await truth()).not.toContain('HTTP 补传');
    youmi.advance(5_000);
    expect(await truth()).toContain('HTTP 补传');
  });

  it('then revoke-tokens and v1-callback-url work over HTTP; an unknown endpoint is a 404 naming it', async () => {
    await youmi.token();
    expect((await control('POST', 'revoke-tokens')).body.revoked).toBeGreaterThan(0);
    expect((await control('POST', 'v1-callback-url', { url: 'http://127.0.0.1:9/x' })).status).toBe(200);
    await control('POST', 'v1-callback-url', {});
    const unknown = await control('GET', 'nothing');
    expect(unknown.status).toBe(404);
    expect(errorMessage(unknown.body)).toMatch(/EMULATOR_CONTROL_NOT_FOUND: .*\/__emulator\/youmi\/nothing/);
  });
});
