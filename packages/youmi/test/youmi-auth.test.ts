import { createHmac } from 'node:crypto';
import { createHttpClient, type HttpClient } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BearerTokenSource, V1Signer, v1Signature } from '../src/youmi-auth.js';
import { envelope, type LoopbackServer, startLoopbackServer } from './support/loopback-server.js';

let server: LoopbackServer | undefined;
let http: HttpClient | undefined;

afterEach(async () => {
  await http?.close();
  await server?.close();
  server = undefined;
  http = undefined;
});

async function tokenServer(options: { expiresIn?: number; holdMs?: number } = {}) {
  let issued = 0;
  server = await startLoopbackServer(async (request) => {
    if (request.path === '/oauth2/token') {
      issued += 1;
      // Holding the answer lets concurrent callers pile up behind one fetch.
      if (options.holdMs) await new Promise((resolve) => setTimeout(resolve, options.holdMs));
      return { json: { access_token: `token-${issued}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 7200 } };
    }
    const token = request.headers.authorization?.replace('Bearer ', '');
    return { json: token === `token-${issued}` ? envelope(true) : envelope(null, 401, 'token expired') };
  });
  http = createHttpClient({ baseUrl: server.url, retry: false });
  return { url: server.url, tokensIssued: () => issued };
}

describe('BearerTokenSource', () => {
  it('sends client credentials form-encoded and caches the token', async () => {
    const { url, tokensIssued } = await tokenServer();
    const source = new BearerTokenSource({
      http: http as HttpClient,
      tokenUrl: `${url}/oauth2/token`,
      clientId: 'ym_client',
      clientSecret: 'very-secret-1',
      scope: 'openapi',
      tenantId: 'T1',
    });
    const first = await source.authorize();
    const second = await source.authorize();
    expect(first.headers).toEqual({ authorization: 'Bearer token-1', tenantid: 'T1' });
    expect(second.token).toBe('token-1');
    expect(tokensIssued()).toBe(1);
    const form = new URLSearchParams(server?.requests[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'ym_client',
      client_secret: 'very-secret-1',
      scope: 'openapi',
    });
    expect(server?.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('refreshes the token once it is within the margin of its expiry', async () => {
    const { url, tokensIssued } = await tokenServer({ expiresIn: 600 });
    let now = 1_000_000;
    const source = new BearerTokenSource({
      http: http as HttpClient,
      tokenUrl: `${url}/oauth2/token`,
      clientId: 'c',
      clientSecret: 'secret-2',
      refreshMarginMs: 60_000,
      now: () => now,
    });
    expect((await source.authorize()).token).toBe('token-1');
    now += 539_000;
    expect((await source.authorize()).token).toBe('token-1');
    now += 2_000;
    expect((await source.authorize()).token).toBe('token-2');
    expect(tokensIssued()).toBe(2);
  });

  it('fetches a single token for many parallel callers (single-flight)', async () => {
    const { url, tokensIssued } = await tokenServer({ holdMs: 50 });
    const source = new BearerTokenSource({
      http: http as HttpClient,
      tokenUrl: `${url}/oauth2/token`,
      clientId: 'c',
      clientSecret: 'secret-3',
    });
    const results = await Promise.all(Array.from({ length: 25 }, () => source.authorize()));
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(['token-1']));
    expect(tokensIssued()).toBe(1);
  });

  it('invalidates only the refused token (compare-and-invalidate)', async () => {
    const { url, tokensIssued } = await tokenServer();
    const source = new BearerTokenSource({
      http: http as HttpClient,
      tokenUrl: `${url}/oauth2/token`,
      clientId: 'c',
      clientSecret: 'secret-4',
    });
    await source.authorize();
    source.invalidate('some-older-token');
    expect((await source.authorize()).token).toBe('token-1');
    source.invalidate('token-1');
    expect((await source.authorize()).token).toBe('token-2');
    expect(tokensIssued()).toBe(2);
  });

  it('reports refused credentials as YOUMI_AUTH_FAILED without the secret', async () => {
    server = await startLoopbackServer(() => ({ status: 401, json: { error: 'invalid_client' } }));
    http = createHttpClient({ baseUrl: server.url, retry: false });
    const source = new BearerTokenSource({
      http,
      tokenUrl: `${server.url}/oauth2/token`,
      clientId: 'c',
      clientSecret: 'secret-never-shown-5',
    });
    const error = await source.authorize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'YOUMI_AUTH_FAILED' });
    expect(JSON.stringify(error)).not.toContain('secret-never-shown-5');
  });
});

describe('V1Signer', () => {
  it('signs the token call and each request as URL-encode(Base64(HMAC-SHA1(appKey, …))) (known answer)', async () => {
    // Known answer computed independently with node:crypto.
    const expected = encodeURIComponent(
      createHmac('sha1', 'app-key-123').update('ymapp_1nonce11763596800').digest('base64'),
    );
    expect(v1Signature('app-key-123', 'ymapp_1nonce11763596800')).toBe(expected);
    expect(v1Signature('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      encodeURIComponent('3nybhbi3iqa8ino29wqQcBydtNk='),
    );

    server = await startLoopbackServer((request) =>
      request.path === '/v1/Token/GetToken'
        ? {
            json: {
              Result: true,
              ReturnCode: 200,
              Message: 'success',
              Data: { access_token: 'v1-token', expires_in: 7200 },
            },
          }
        : { json: { Result: true, ReturnCode: 200, Message: 'success', Data: 3 } },
    );
    http = createHttpClient({ baseUrl: server.url, retry: false });
    let nonce = 0;
    const signer = new V1Signer({
      http,
      appId: 'ymapp_1',
      appKey: 'app-key-123',
      tokenPath: '/v1/Token/GetToken',
      now: () => 1_763_596_800_000,
      nonce: () => `nonce${++nonce}`,
    });
    const { headers } = await signer.authorize();
    const tokenCall = server.requests[0];
    expect(tokenCall?.headers.appid).toBe('ymapp_1');
    expect(tokenCall?.headers.signature).toBe(expected);
    expect(headers).toEqual({
      access_token: 'v1-token',
      nonce: 'nonce2',
      timestamp: '1763596800',
      signature: encodeURIComponent(
        createHmac('sha1', 'app-key-123').update('v1-tokennonce21763596800').digest('base64'),
      ),
    });
  });
});
