import { createHmac } from 'node:crypto';
import { createHttpClient, type HttpClient } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BearerTokenSource, tokenExpiry, V1Signer, v1Signature } from '../src/youmi-auth.js';
import { envelope, type LoopbackServer, startLoopbackServer } from './support/loopback-server.js';

// Token endpoints that misbehave in ways the emulator does not (held answers, 5xx, refusals): loopback fakes.

let server: LoopbackServer | undefined;
let http: HttpClient | undefined;

afterEach(async () => {
  await http?.close();
  await server?.close();
  server = undefined;
  http = undefined;
});

async function tokenServer(options: { expiresIn?: number; release?: Promise<void> } = {}) {
  let issued = 0;
  server = await startLoopbackServer(async (request) => {
    if (request.path === '/connect/token') {
      issued += 1;
      // Holding the answer until released lets concurrent callers pile up behind one fetch.
      await options.release;
      return { json: { access_token: `token-${issued}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 7200 } };
    }
    return { json: envelope(true) };
  });
  http = createHttpClient({ baseUrl: server.url, retry: false });
  return { url: server.url, tokensIssued: () => issued };
}

const bearer = (url: string, extra: Partial<ConstructorParameters<typeof BearerTokenSource>[0]> = {}) =>
  new BearerTokenSource({
    http: http as HttpClient,
    tokenUrl: `${url}/connect/token`,
    clientId: 'ym_client',
    clientSecret: 'very-secret-1',
    scope: 'Ls.Qkl.PublicApi',
    ...extra,
  });

describe('BearerTokenSource: the token call 获取商户TOKEN (§1.1)', () => {
  it('given credentials, then they go form-encoded with scope and grant_type, and the token is cached', async () => {
    const { url, tokensIssued } = await tokenServer();
    const source = bearer(url, { tenantId: 'T1' });
    const first = await source.authorize();
    const second = await source.authorize();
    expect(first.headers).toEqual({ authorization: 'Bearer token-1', tenantid: 'T1' });
    expect(second.token).toBe('token-1');
    expect(tokensIssued()).toBe(1);
    expect(Object.fromEntries(new URLSearchParams(server?.requests[0]?.body))).toEqual({
      client_id: 'ym_client',
      client_secret: 'very-secret-1',
      scope: 'Ls.Qkl.PublicApi',
      grant_type: 'client_credentials',
    });
    expect(server?.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('given a token near its expiry, then it is refreshed within the margin', async () => {
    const { url, tokensIssued } = await tokenServer({ expiresIn: 600 });
    let now = 1_000_000;
    const source = bearer(url, { refreshMarginMs: 60_000, now: () => now });
    expect((await source.authorize()).token).toBe('token-1');
    now += 539_000;
    expect((await source.authorize()).token).toBe('token-1');
    now += 2_000;
    expect((await source.authorize()).token).toBe('token-2');
    expect(tokensIssued()).toBe(2);
  });

  it('given 25 parallel callers, then one token request (single-flight)', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { url, tokensIssued } = await tokenServer({ release: held });
    const source = bearer(url);
    const pending = Promise.all(Array.from({ length: 25 }, () => source.authorize()));
    await expect.poll(() => tokensIssued()).toBe(1);
    release();
    const results = await pending;
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(['token-1']));
    expect(tokensIssued()).toBe(1);
  });

  it('given a refusal of an older token, then the current one is kept (compare-and-invalidate)', async () => {
    const { url, tokensIssued } = await tokenServer();
    const source = bearer(url);
    await source.authorize();
    source.invalidate('some-older-token');
    expect((await source.authorize()).token).toBe('token-1');
    source.invalidate('token-1');
    source.invalidate('token-1');
    expect((await source.authorize()).token).toBe('token-2');
    expect(tokensIssued()).toBe(2);
  });

  it('given refused credentials, then YOUMI_AUTH_FAILED names the token URL but never the secret', async () => {
    server = await startLoopbackServer(() => ({ status: 400, json: { error: 'invalid_client' } }));
    http = createHttpClient({ baseUrl: server.url, retry: false });
    const error = await bearer(server.url, { clientSecret: 'secret-never-shown-5' })
      .authorize()
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'YOUMI_AUTH_FAILED', details: { endpoint: `${server.url}/connect/token` } });
    expect((error as Error).message).toContain(`${server.url}/connect/token`);
    expect((error as Error).message).toContain('invalid_client');
    expect(JSON.stringify(error)).not.toContain('secret-never-shown-5');
  });

  it.each([500, 503])(
    'given HTTP %i from the token endpoint, then YOUMI_TOKEN_ENDPOINT_UNAVAILABLE (retryable), not refused credentials',
    async (status) => {
      server = await startLoopbackServer(() => ({ status, raw: '<html>bad gateway</html>' }));
      http = createHttpClient({ baseUrl: server.url, retry: false });
      const error = await bearer(server.url)
        .authorize()
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'YOUMI_TOKEN_ENDPOINT_UNAVAILABLE', retryable: true });
      expect((error as Error).message).toContain('unavailable');
    },
  );

  it('given an unreachable token endpoint, then YOUMI_TOKEN_ENDPOINT_UNAVAILABLE naming the URL', async () => {
    server = await startLoopbackServer(() => ({ json: {} }));
    const url = server.url;
    await server.close();
    server = undefined;
    http = createHttpClient({ baseUrl: url, retry: false });
    const error = await bearer(url)
      .authorize()
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'YOUMI_TOKEN_ENDPOINT_UNAVAILABLE' });
    expect((error as Error).message).toContain(`${url}/connect/token`);
  });
});

describe('token lifetimes', () => {
  it('given expires_in as a lifetime, then it counts from the request; as an absolute epoch, from the server time', () => {
    expect(tokenExpiry(7200, 1_000_000, 60)).toBe(1_000_000 + 7_200_000);
    // The v1 example: msgTime 2020-06-23T15:46:11+08:00, expires_in 1593503171 = msgTime + 7 days.
    const serverTime = Date.parse('2020-06-23T15:46:11+08:00');
    const localStart = serverTime + 5 * 60_000; // our clock runs 5 minutes ahead
    expect(tokenExpiry(1_593_503_171, localStart, 60, serverTime)).toBe(localStart + 7 * 86_400_000);
    expect(tokenExpiry(undefined, 1_000, 60)).toBe(61_000);
  });
});

describe('V1Signer (§1.2)', () => {
  it('given the token call, then it POSTs {AppId, Nonce, Timestamp, Signature} as text/json to ?format=json, and signs each request (known answer)', async () => {
    // Known answers computed independently with node:crypto.
    const expected = encodeURIComponent(
      createHmac('sha1', 'app-key-123').update('73289537nonce11763596800').digest('base64'),
    );
    expect(v1Signature('app-key-123', '73289537nonce11763596800')).toBe(expected);
    expect(v1Signature('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      encodeURIComponent('3nybhbi3iqa8ino29wqQcBydtNk='),
    );
    server = await startLoopbackServer((request) =>
      request.path.startsWith('/publicapi/v1/GetAccessToken')
        ? {
            json: {
              errmsg: 10004,
              succeed: true,
              msgTime: '2025-11-20T08:00:00.0000000+08:00',
              values: { access_token: 'v1-token', expires_in: 1_763_596_800 + 7 * 86_400 },
            },
          }
        : { json: envelope(3) },
    );
    http = createHttpClient({ baseUrl: server.url, retry: false });
    let nonce = 0;
    const signer = new V1Signer({
      http,
      appId: '73289537',
      appKey: 'app-key-123',
      tokenUrl: `${server.url}/publicapi/v1/GetAccessToken`,
      now: () => 1_763_596_800_000,
      nonce: () => `nonce${++nonce}`,
    });
    const { headers } = await signer.authorize();
    const tokenCall = server.requests[0];
    expect(tokenCall?.path).toBe('/publicapi/v1/GetAccessToken?format=json');
    expect(tokenCall?.headers['content-type']).toBe('text/json');
    expect(JSON.parse(tokenCall?.body ?? '')).toEqual({
      AppId: '73289537',
      Nonce: 'nonce1',
      Timestamp: 1763596800,
      Signature: expected,
    });
    expect(headers).toEqual({
      'content-type': 'text/json',
      access_token: 'v1-token',
      nonce: 'nonce2',
      timestamp: '1763596800',
      signature: encodeURIComponent(
        createHmac('sha1', 'app-key-123').update('v1-tokennonce21763596800').digest('base64'),
      ),
    });
  });

  it('given a refused token call (200006 wrong key), then YOUMI_AUTH_FAILED with the code and the URL', async () => {
    server = await startLoopbackServer(() => ({
      json: { errmsg: 200006, succeed: false, msgTime: '', values: null, errdesc: 'wrong key' },
    }));
    http = createHttpClient({ baseUrl: server.url, retry: false });
    const signer = new V1Signer({
      http,
      appId: '1',
      appKey: 'key-1234',
      tokenUrl: `${server.url}/publicapi/v1/GetAccessToken`,
    });
    const error = await signer.authorize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'YOUMI_AUTH_FAILED', details: { platformCode: 200006 } });
    expect((error as Error).message).toContain('/publicapi/v1/GetAccessToken');
  });
});
