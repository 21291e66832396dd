import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient, type HttpClient, isKefuError } from '@kefu/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenManager } from '../src/token-manager.js';
import { MemoryTokenStore } from '../src/token-stores.js';
import { WechatMpClient } from '../src/wechat-mp-client.js';

/**
 * A tiny loopback WeChat for a behaviour the emulator does not produce: a stable_token
 * endpoint that keeps handing out a token the API refuses until `force_refresh` is sent.
 */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => resolve(body));
  });
}

describe('TokenManager against a loopback server', () => {
  let server: Server;
  let http: HttpClient;
  const log: string[] = [];

  beforeEach(async () => {
    log.length = 0;
    server = createServer(async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const body = await readBody(request);
      response.setHeader('content-type', 'application/json');
      if (url.pathname === '/cgi-bin/stable_token') {
        const force = (JSON.parse(body) as { force_refresh?: boolean }).force_refresh === true;
        log.push(force ? 'stable_token(force)' : 'stable_token');
        response.end(
          JSON.stringify({ access_token: force ? 'token-fresh-1234' : 'token-stale-1234', expires_in: 7200 }),
        );
        return;
      }
      if (url.pathname === '/cgi-bin/token') {
        log.push('token');
        response.end(JSON.stringify({ errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist' }));
        return;
      }
      const token = url.searchParams.get('access_token');
      log.push(`${url.pathname}:${token}`);
      // A raw control character and a msgid beyond 2^53: the client must parse both.
      response.end(
        token === 'token-fresh-1234'
          ? '{"kf_list":[{"kf_account":"a@b","kf_nick":"A\u0001","kf_id":12345678901234567890}]}'
          : '{"errcode":40001,"errmsg":"invalid credential"}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    http = createHttpClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: false });
  });
  afterEach(async () => {
    await http.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('given the stable endpoint hands back the refused token, then it force-refreshes once and the call succeeds', async () => {
    const tokens = new TokenManager({ appId: 'wx-app', secret: 'secret-value', http, store: new MemoryTokenStore() });
    const client = new WechatMpClient({
      appId: 'wx-app',
      http,
      tokens,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitter: 0 },
    });
    const agents = await client.listAgents();
    expect(agents[0]).toMatchObject({ kf_account: 'a@b', kf_nick: 'A\u0001', kf_id: '12345678901234567890' });
    expect(log).toEqual([
      'stable_token',
      '/cgi-bin/customservice/getkflist:token-stale-1234',
      'stable_token',
      'stable_token(force)',
      '/cgi-bin/customservice/getkflist:token-fresh-1234',
    ]);
  });

  it('given the classic endpoint refuses the IP, then the call fails with WECHAT_40164 and no secret in the message', async () => {
    const tokens = new TokenManager({
      appId: 'wx-app',
      secret: 'secret-value-xyz',
      http,
      store: new MemoryTokenStore(),
      endpoint: 'classic',
    });
    const error = await tokens.getToken().catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('WECHAT_40164');
    expect(isKefuError(error) && error.retryable).toBe(false);
    expect(String((error as Error).message)).not.toContain('secret-value-xyz');
  });
});
