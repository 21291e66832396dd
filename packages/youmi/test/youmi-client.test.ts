import { createHttpClient, type HttpClient } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BearerTokenSource } from '../src/youmi-auth.js';
import { YoumiCaller, YoumiClient } from '../src/youmi-client.js';
import { envelope, type LoopbackAnswer, type LoopbackServer, startLoopbackServer } from './support/loopback-server.js';

// Fake servers here produce answers the emulator never gives (values: null, bare bodies, busy codes).

const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 };
let server: LoopbackServer | undefined;
let http: HttpClient | undefined;

afterEach(async () => {
  await http?.close();
  await server?.close();
});

/** A Youmi-like API on loopback: the token call plus `api` answering every /v2 call. */
async function youmiApi(api: (path: string, body: unknown, token: string | undefined) => LoopbackAnswer) {
  let issued = 0;
  server = await startLoopbackServer((request) => {
    if (request.path === '/connect/token') {
      issued += 1;
      return { json: { access_token: `token-${issued}`, expires_in: 7200 } };
    }
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    return api(request.path, JSON.parse(request.body || '{}'), token);
  });
  http = createHttpClient({ baseUrl: server.url, retry: fastRetry });
  const auth = new BearerTokenSource({
    http,
    tokenUrl: `${server.url}/connect/token`,
    clientId: 'c',
    clientSecret: 'secret-c',
    scope: 'Ls.Qkl.PublicApi',
  });
  const client = new YoumiClient(new YoumiCaller({ http, auth, generation: 'v2', retry: fastRetry }));
  return { client, tokensIssued: () => issued };
}

const apiCalls = () => server?.requests.filter((r) => r.path.startsWith('/v2/')) ?? [];

describe('YoumiClient envelopes', () => {
  it('given succeed true, then the values come back validated; fansKe is sent even when empty', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(50) }));
    await expect(client.fansCount({ wechatId: 10001 })).resolves.toBe(50);
    expect(JSON.parse(apiCalls()[0]?.body ?? '')).toEqual({ wechatId: 10001, fansKe: '' });
  });

  it('given GetChat, then page parameters go as strings, as seed 002 requires', async () => {
    const { client } = await youmiApi(() => ({ json: envelope([]) }));
    await client.getChat({ wechatId: 10001, fansKey: 'wxid_a', pageSize: 50, pageIndex: 2, minChattingId: 7 });
    expect(JSON.parse(apiCalls()[0]?.body ?? '')).toEqual({
      wechatId: 10001,
      fansKey: 'wxid_a',
      pageSize: '50',
      pageIndex: '2',
      minChattingId: 7,
    });
  });

  it('given succeed false, then YOUMI_API_ERROR carries the errmsg and its documented meaning, without retrying', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(null, 200009, 'fansKey: not a friend') }));
    const error = await client.getChat({ wechatId: 10001, fansKey: 'x', pageSize: 10, pageIndex: 1 }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'YOUMI_API_ERROR',
      retryable: false,
      details: { platformCode: 200009, errdesc: 'fansKey: not a friend' },
    });
    expect(error.message).toContain('no such friend');
    expect(apiCalls()).toHaveLength(1);
  });

  it('given a 4xx carrying an envelope, then succeed decides (a platform error); a bare 404 says to check the base URL', async () => {
    const { client } = await youmiApi((path) =>
      path.endsWith('GetAdCount')
        ? { status: 400, json: envelope(null, 200012, 'name: is required') }
        : { status: 404, raw: '' },
    );
    await expect(client.adCount()).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { platformCode: 200012 },
    });
    await expect(client.adList()).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { status: 404 },
      message: expect.stringContaining('check baseUrl'),
    });
  });

  it('given a transient code (200011 server error), then it is retried with back-off and succeeds', async () => {
    let calls = 0;
    const { client } = await youmiApi(() => {
      calls += 1;
      return { json: calls < 3 ? envelope(null, 200011, 'server error') : envelope(7) };
    });
    await expect(client.adCount()).resolves.toBe(7);
    expect(calls).toBe(3);
  });

  it('given 200004 (Signature missing), then it is an API error, not a token refresh', async () => {
    const { client, tokensIssued } = await youmiApi(() => ({ json: envelope(null, 200004, 'Signature missing') }));
    await expect(client.adCount()).rejects.toMatchObject({
      code: 'YOUMI_API_ERROR',
      details: { platformCode: 200004 },
    });
    expect(tokensIssued()).toBe(1);
  });

  it.each([10003, 10011])(
    'given errmsg %i for a revoked token, then one refresh and the call goes on',
    async (code) => {
      const revoked = new Set<string>();
      const { client, tokensIssued } = await youmiApi((_path, _body, token) =>
        token && !revoked.has(token) ? { json: envelope(12) } : { json: envelope(null, code, '令牌失效') },
      );
      await expect(client.adCount()).resolves.toBe(12);
      revoked.add('token-1');
      await expect(client.adCount()).resolves.toBe(12);
      expect(tokensIssued()).toBe(2);
    },
  );

  it('given a bare HTTP 401 (ASP.NET bearer middleware), then the token is refreshed too', async () => {
    const { client, tokensIssued } = await youmiApi((_path, _body, token) =>
      token === 'token-1' ? { status: 401, raw: '' } : { json: envelope(3) },
    );
    await expect(client.adCount()).resolves.toBe(3);
    expect(tokensIssued()).toBe(2);
  });

  it('given every fresh token refused, then YOUMI_TOKEN_REJECTED after three tokens', async () => {
    const { client, tokensIssued } = await youmiApi(() => ({ json: envelope(null, 10003, 'token expired') }));
    await expect(client.adCount()).rejects.toMatchObject({
      code: 'YOUMI_TOKEN_REJECTED',
      details: { platformCode: 10003 },
    });
    expect(tokensIssued()).toBe(3);
  });

  it('given calls in flight when their token is revoked, then one token request serves them all', async () => {
    let revokedAt = Number.POSITIVE_INFINITY;
    let calls = 0;
    const { client, tokensIssued } = await youmiApi((_path, _body, token) => {
      calls += 1;
      // The first 8 calls carry token-1, which is revoked from the 3rd call on.
      if (calls === 3) revokedAt = calls;
      return token === 'token-1' && calls >= revokedAt
        ? { json: envelope(null, 10003, '令牌失效') }
        : { json: envelope(1) };
    });
    await client.adCount();
    const results = await Promise.all(Array.from({ length: 8 }, () => client.adCount()));
    expect(results).toEqual(Array(8).fill(1));
    expect(tokensIssued()).toBe(2);
  });

  it('given a GetChat page above 32 KiB (parsed in pieces), then every chat comes back as sent', async () => {
    const chats = Array.from({ length: 400 }, (_, i) => ({
      ad_chatting_id: i + 1,
      ad_chatting_talter: 'wxid_fan',
      ad_chatting_issend: i % 2,
      ad_wechat_id: 10001,
      ad_chatting_sate: 1,
      ad_chatting_time: '2026-01-05 10:00:00',
      ad_chatting_content: i % 9 === 0 ? '},{"ad_chatting_id":0} 引号\\"' : `第 ${i} 条消息 😊`,
    }));
    expect(JSON.stringify(envelope(chats)).length).toBeGreaterThan(32 * 1024);
    const { client } = await youmiApi(() => ({ json: envelope(chats) }));
    await expect(
      client.getChat({ wechatId: 10001, fansKey: 'wxid_fan', pageSize: 400, pageIndex: 1 }),
    ).resolves.toEqual(chats);
  });

  it('given a body that is not an envelope, then YOUMI_BAD_ENVELOPE quotes it', async () => {
    const { client } = await youmiApi(() => ({ json: { code: 0, data: [] } }));
    const error = await client.adCount().catch((e) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE' });
    expect(error.message).toMatch(/did not answer an envelope.*"code":0/);
  });

  it('given a truncated body, then it is retried and then a retryable YOUMI_BAD_ENVELOPE', async () => {
    const { client } = await youmiApi(() => ({ raw: '{"requestId":null,"errm' }));
    await expect(client.adCount()).rejects.toMatchObject({ code: 'YOUMI_BAD_ENVELOPE', retryable: true });
    expect(apiCalls().length).toBe(fastRetry.maxAttempts);
  });

  it('given values null where GetChat documents an array, then a retryable typed error, not an empty page', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(null) }));
    const error = await client.getChat({ wechatId: 1, fansKey: 'f', pageSize: 10, pageIndex: 1 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE', retryable: true, details: { field: 'values' } });
    expect(apiCalls()).toHaveLength(fastRetry.maxAttempts);
  });

  it('given values null for a list whose answer was not seen (staff), then an empty list', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(null) }));
    await expect(client.staffList()).resolves.toEqual([]);
  });

  it('given succeed true with values of the wrong shape, then the field is named', async () => {
    const { client } = await youmiApi(() => ({ json: envelope([{ ad_chatting_id: 'x' }]) }));
    const error = await client.getChat({ wechatId: 1, fansKey: 'f', pageSize: 10, pageIndex: 1 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE', details: { field: '0.ad_chatting_id' } });
  });

  it('given bad arguments, then a typed error before any request', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(true) }));
    expect(() => client.getChat({ wechatId: 0, fansKey: 'f', pageSize: 10, pageIndex: 1 })).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID', message: expect.stringContaining('wechatId') }),
    );
    expect(() => client.registerCallbackUrl('ftp://x')).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID' }),
    );
    expect(() => client.sendMessage({ wechatId: 1, toUserName: 'f', msgType: 'text' })).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID', message: expect.stringContaining('text') }),
    );
    expect(apiCalls()).toHaveLength(0);
  });
});
