import { createHttpClient, type HttpClient } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BearerTokenSource } from '../src/youmi-auth.js';
import { YoumiClient } from '../src/youmi-client.js';
import { envelope, type LoopbackAnswer, type LoopbackServer, startLoopbackServer } from './support/loopback-server.js';

const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, jitter: 0 };
let server: LoopbackServer | undefined;
let http: HttpClient | undefined;

afterEach(async () => {
  await http?.close();
  await server?.close();
});

/** A Youmi-like API on loopback: a token endpoint plus `api` answering every /v2 call. */
async function youmiApi(api: (path: string, body: unknown, token: string | undefined) => LoopbackAnswer) {
  let issued = 0;
  server = await startLoopbackServer((request) => {
    if (request.path === '/oauth2/token') {
      issued += 1;
      return { json: { access_token: `token-${issued}`, expires_in: 7200 } };
    }
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    return api(request.path, JSON.parse(request.body || '{}'), token);
  });
  http = createHttpClient({ baseUrl: server.url, retry: fastRetry });
  const auth = new BearerTokenSource({
    http,
    tokenUrl: `${server.url}/oauth2/token`,
    clientId: 'c',
    clientSecret: 'secret-c',
  });
  return { client: new YoumiClient({ http, auth, retry: fastRetry }), tokensIssued: () => issued };
}

describe('YoumiClient envelopes', () => {
  it('returns validated values when succeed is true', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(50) }));
    await expect(client.fansCount(10001)).resolves.toBe(50);
    expect(JSON.parse(server?.requests[1]?.body ?? '')).toEqual({ wechatId: 10001 });
  });

  it('sends GetChat page parameters as strings, as seed 002 requires', async () => {
    const { client } = await youmiApi(() => ({ json: envelope([]) }));
    await client.getChat({ wechatId: 10001, fansKey: 'wxid_a', pageSize: 50, pageIndex: 2, minChattingId: 7 });
    expect(JSON.parse(server?.requests[1]?.body ?? '')).toEqual({
      wechatId: 10001,
      fansKey: 'wxid_a',
      pageSize: '50',
      pageIndex: '2',
      minChattingId: 7,
    });
  });

  it('turns succeed=false into YOUMI_API_ERROR carrying the numeric code, without retrying', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(null, 1002, 'fansKey: not a fan') }));
    const error = await client.getChat({ wechatId: 10001, fansKey: 'x', pageSize: 10, pageIndex: 1 }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'YOUMI_API_ERROR',
      retryable: false,
      details: { platformCode: 1002, errdesc: 'fansKey: not a fan' },
    });
    expect(server?.requests.filter((r) => r.path.startsWith('/v2/'))).toHaveLength(1);
  });

  it('decides by succeed, not by the HTTP status (a 404 envelope is a platform error)', async () => {
    const { client } = await youmiApi(() => ({ status: 404, json: envelope(null, 404, 'no such API') }));
    await expect(client.adCount()).rejects.toMatchObject({ code: 'YOUMI_API_ERROR', details: { platformCode: 404 } });
  });

  it('retries a transient platform code (busy) with back-off, then succeeds', async () => {
    let calls = 0;
    const { client } = await youmiApi(() => {
      calls += 1;
      return { json: calls < 3 ? envelope(null, -1, 'system busy') : envelope(7) };
    });
    await expect(client.adCount()).resolves.toBe(7);
    expect(calls).toBe(3);
  });

  it('refreshes a refused token once and retries the call', async () => {
    const revoked = new Set<string>();
    const { client, tokensIssued } = await youmiApi((_path, _body, token) =>
      token && !revoked.has(token) ? { json: envelope(12) } : { json: envelope(null, 401, 'token revoked') },
    );
    await expect(client.adCount()).resolves.toBe(12);
    revoked.add('token-1');
    await expect(client.adCount()).resolves.toBe(12);
    expect(tokensIssued()).toBe(2);
  });

  it('gives up with YOUMI_TOKEN_REJECTED when a fresh token is refused too', async () => {
    const { client, tokensIssued } = await youmiApi(() => ({ json: envelope(null, 401, 'token expired') }));
    await expect(client.adCount()).rejects.toMatchObject({
      code: 'YOUMI_TOKEN_REJECTED',
      details: { platformCode: 401 },
    });
    expect(tokensIssued()).toBe(2);
  });

  it('rejects a body that is not an envelope with a clear YOUMI_BAD_ENVELOPE', async () => {
    const { client } = await youmiApi(() => ({ json: { code: 0, data: [] } }));
    const error = await client.adCount().catch((e) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE' });
    expect(error.message).toMatch(/did not answer a v2 envelope.*errmsg/);
  });

  it('rejects a body that is not JSON after retrying it', async () => {
    const { client } = await youmiApi(() => ({ raw: '{"requestId":null,"errm' }));
    await expect(client.adCount()).rejects.toMatchObject({ code: 'YOUMI_BAD_ENVELOPE', retryable: true });
    expect(server?.requests.filter((r) => r.path === '/v2/Ad/GetAdCount')).toHaveLength(fastRetry.maxAttempts);
  });

  it('rejects succeed=true with values of the wrong shape, naming the field', async () => {
    const { client } = await youmiApi(() => ({ json: envelope([{ ad_chatting_id: 'x' }]) }));
    const error = await client.getChat({ wechatId: 1, fansKey: 'f', pageSize: 10, pageIndex: 1 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE', details: { field: '0.ad_chatting_id' } });
  });

  it('refuses bad arguments before any request', async () => {
    const { client } = await youmiApi(() => ({ json: envelope(true) }));
    expect(() => client.getChat({ wechatId: 0, fansKey: 'f', pageSize: 10, pageIndex: 1 })).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID', message: expect.stringContaining('wechatId') }),
    );
    expect(() => client.registerCallbackUrl('ftp://x', 'all')).toThrow(
      expect.objectContaining({ code: 'YOUMI_REQUEST_INVALID' }),
    );
    expect(server?.requests).toHaveLength(0);
  });
});
