import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  createHttpClient,
  createJsonLogger,
  type HttpClient,
  type HttpClientOptions,
  isKefuError,
  parseRetryAfter,
  registerSecret,
  undiciHttpClientFactory,
} from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failure } from './support/kefu-failure.js';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1 that records what it saw. */
interface TestServer {
  url: string;
  hits: Map<string, number>;
  sockets: Set<Socket>;
  closedSockets: number;
  openedSockets: number;
  maxOpenSockets: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: HttpClient[] = [];

async function startServer(routes: Record<string, Handler>): Promise<TestServer> {
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const state: TestServer = {
    url: '',
    hits,
    sockets,
    closedSockets: 0,
    openedSockets: 0,
    maxOpenSockets: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const handler = routes[path];
      if (!handler) {
        response.writeHead(404).end('no route');
        return;
      }
      handler(request, response, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    state.openedSockets++;
    state.maxOpenSockets = Math.max(state.maxOpenSockets, sockets.size);
    socket.on('close', () => {
      sockets.delete(socket);
      state.closedSockets++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(state);
  return state;
}

function client(options: HttpClientOptions): HttpClient {
  const created = createHttpClient(options);
  clients.push(created);
  return created;
}

/** A fast retry policy so retried tests stay short (no jitter: deterministic delays). */
const quickRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 50, jitter: 0 };

/** Resolves once `predicate` holds, polling the event loop (bounded). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(predicate()).toBe(true);
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('createHttpClient', () => {
  it('joins the base path, adds query parameters and sends a JSON body', async () => {
    const server = await startServer({
      '/api/v2/echo': (request, response, body) => {
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({ url: request.url, body: JSON.parse(body), type: request.headers['content-type'] }),
        );
      },
    });
    const http = client({ baseUrl: `${server.url}/api/` });
    const response = await http.request({
      method: 'POST',
      path: '/v2/echo',
      query: { a: 1, b: 'x y', skipped: undefined },
      json: { hello: '世界' },
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text())).toEqual({
      url: '/api/v2/echo?a=1&b=x+y',
      body: { hello: '世界' },
      type: 'application/json',
    });
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const server = await startServer({ '/ok': (_q, response) => response.end('ok') });
    const http = client({ baseUrl: server.url });
    for (let i = 0; i < 20; i++) expect((await http.request({ method: 'GET', path: '/ok' })).text()).toBe('ok');
    expect(server.hits.get('/ok')).toBe(20);
    // undici may open a second socket while the first is being returned to the pool.
    expect(server.openedSockets).toBeLessThanOrEqual(2);
  });

  it('never opens more connections than `connections`', async () => {
    const waiting: ServerResponse[] = [];
    const server = await startServer({
      '/hold': (_q, response) => {
        waiting.push(response);
        // Answer in pairs, so the pool has to queue the rest of the requests.
        if (waiting.length >= 2) for (const r of waiting.splice(0)) r.end('done');
      },
    });
    const http = client({ baseUrl: server.url, connections: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => http.request({ method: 'GET', path: '/hold' })));
    expect(results.map((r) => r.text())).toEqual(Array(6).fill('done'));
    expect(server.maxOpenSockets).toBeLessThanOrEqual(2);
  });

  it('retries a 503 honouring Retry-After, then succeeds', async () => {
    let calls = 0;
    const server = await startServer({
      '/flaky': (_q, response) => {
        calls++;
        if (calls === 1) response.writeHead(503, { 'retry-after': '0' }).end('busy');
        else response.end('{"ok":true}');
      },
    });
    const retries: { attempt: number; delayMs: number }[] = [];
    const http = client({
      baseUrl: server.url,
      retry: quickRetry,
      onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }),
    });
    const response = await http.request({ method: 'GET', path: '/flaky' });
    expect(response.text()).toBe('{"ok":true}');
    expect(retries).toEqual([{ attempt: 1, delayMs: 0 }]);
  });

  it('stops waiting for a retry when the caller aborts during the back-off', async () => {
    const server = await startServer({
      '/busy': (_q, response) => response.writeHead(503, { 'retry-after': '20' }).end(),
    });
    const controller = new AbortController();
    const delays: number[] = [];
    const http = client({
      baseUrl: server.url,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 60_000, jitter: 0 },
      // Called just before the 20 s back-off starts: abort exactly then.
      onRetry: ({ delayMs }) => {
        delays.push(delayMs);
        controller.abort();
      },
    });
    const error = await failure(http.request({ method: 'GET', path: '/busy', signal: controller.signal }));
    expect(delays).toEqual([20_000]);
    expect(error.code).toBe('KEFU_SYNC_ABORTED');
    expect(server.hits.get('/busy')).toBe(1);
  });

  it('fails at once when Retry-After asks for longer than the policy allows', async () => {
    const server = await startServer({
      '/later': (_q, response) => response.writeHead(429, { 'retry-after': '3600' }).end(),
    });
    const http = client({ baseUrl: server.url, retry: quickRetry });
    const error = await failure(http.request({ method: 'GET', path: '/later' }));
    expect(error.code).toBe('KEFU_HTTP_STATUS');
    expect(error.details.status).toBe(429);
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(server.hits.get('/later')).toBe(1);
  });

  it('gives up after maxAttempts on a persistent 500 with KEFU_HTTP_STATUS and the status', async () => {
    const server = await startServer({ '/down': (_q, response) => response.writeHead(500).end('internal') });
    const http = client({ baseUrl: server.url, retry: quickRetry });
    const error = await failure(http.request({ method: 'GET', path: '/down' }));
    expect(error.code).toBe('KEFU_HTTP_STATUS');
    expect(error.details.status).toBe(500);
    expect(error.retryable).toBe(true);
    expect(server.hits.get('/down')).toBe(3);
  });

  it('does not retry a 4xx', async () => {
    const server = await startServer({ '/bad': (_q, response) => response.writeHead(400).end('bad request') });
    const http = client({ baseUrl: server.url, retry: quickRetry });
    const error = await failure(http.request({ method: 'GET', path: '/bad' }));
    expect(error.code).toBe('KEFU_HTTP_STATUS');
    expect(error.details.status).toBe(400);
    expect(error.message).toContain('bad request');
    expect(server.hits.get('/bad')).toBe(1);
  });

  it('retries connections reset by the server (KEFU_HTTP_NETWORK) and then succeeds', async () => {
    let calls = 0;
    const server = await startServer({
      '/reset': (request, response) => {
        calls++;
        if (calls <= 2) request.socket.destroy();
        else response.end('finally');
      },
    });
    const errors: string[] = [];
    const http = client({
      baseUrl: server.url,
      retry: quickRetry,
      onRetry: ({ error }) => errors.push(isKefuError(error) ? error.code : 'other'),
    });
    expect((await http.request({ method: 'GET', path: '/reset' })).text()).toBe('finally');
    expect(errors).toEqual(['KEFU_HTTP_NETWORK', 'KEFU_HTTP_NETWORK']);
  });

  it('reports a refused connection as a retryable KEFU_HTTP_NETWORK', async () => {
    const server = await startServer({});
    const url = server.url;
    await server.close();
    const http = client({ baseUrl: url, retry: false });
    const error = await failure(http.request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('KEFU_HTTP_NETWORK');
    expect(error.retryable).toBe(true);
  });

  it('times out slow response headers with KEFU_HTTP_TIMEOUT (phase headers)', async () => {
    const server = await startServer({ '/slow': () => {} });
    const http = client({ baseUrl: server.url, headersTimeoutMs: 100, retry: false });
    const error = await failure(http.request({ method: 'GET', path: '/slow' }));
    expect(error.code).toBe('KEFU_HTTP_TIMEOUT');
    expect(error.details.phase).toBe('headers');
    expect(error.retryable).toBe(true);
  });

  it('times out a body that stalls with KEFU_HTTP_TIMEOUT (phase body)', async () => {
    const server = await startServer({
      '/stall': (_q, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"partial":');
      },
    });
    const http = client({ baseUrl: server.url, bodyTimeoutMs: 100, retry: false });
    const error = await failure(http.request({ method: 'GET', path: '/stall' }));
    expect(error.code).toBe('KEFU_HTTP_TIMEOUT');
    expect(error.details.phase).toBe('body');
  });

  it('refuses a body whose Content-Length exceeds the limit', async () => {
    const server = await startServer({
      '/big': (_q, response) => response.end(Buffer.alloc(10_000, 'x')),
    });
    const http = client({ baseUrl: server.url, maxResponseBytes: 1000 });
    const error = await failure(http.request({ method: 'GET', path: '/big' }));
    expect(error.code).toBe('KEFU_HTTP_RESPONSE_TOO_LARGE');
    expect(error.details.limit).toBe(1000);
  });

  it('aborts a chunked body while streaming once it exceeds the limit, closing the socket', async () => {
    let serverWrites = 0;
    const server = await startServer({
      '/endless': (_q, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        // Would stream forever: only the client's abort ends it.
        const push = () => {
          if (response.destroyed) return;
          serverWrites++;
          response.write(Buffer.alloc(16 * 1024, 'y'), () => setImmediate(push));
        };
        push();
      },
    });
    const http = client({ baseUrl: server.url, retry: false });
    const error = await failure(http.request({ method: 'GET', path: '/endless', maxResponseBytes: 64 * 1024 }));
    expect(error.code).toBe('KEFU_HTTP_RESPONSE_TOO_LARGE');
    await until(() => server.closedSockets === 1);
    expect(serverWrites).toBeGreaterThan(4);
  });

  it('releases the socket when the caller aborts, and the pool stays usable', async () => {
    const server = await startServer({ '/hold': () => {}, '/ok': (_q, response) => response.end('ok') });
    const http = client({ baseUrl: server.url, connections: 1 });
    const controller = new AbortController();
    const pending = http.request({ method: 'GET', path: '/hold', signal: controller.signal });
    await until(() => server.hits.get('/hold') === 1);
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('KEFU_SYNC_ABORTED');
    await until(() => server.closedSockets === 1);
    expect((await http.request({ method: 'GET', path: '/ok' })).text()).toBe('ok');
  });

  it('rejects at once for a signal that is already aborted', async () => {
    const server = await startServer({ '/ok': (_q, response) => response.end('ok') });
    const http = client({ baseUrl: server.url });
    const error = await failure(http.request({ method: 'GET', path: '/ok', signal: AbortSignal.abort() }));
    expect(error.code).toBe('KEFU_SYNC_ABORTED');
    expect(server.hits.get('/ok')).toBeUndefined();
  });

  it('rejects invalid options with KEFU_CONFIG_INVALID naming the option', () => {
    expect(() => createHttpClient({ baseUrl: 'ftp://example.com' })).toThrowError(/baseUrl/);
    try {
      createHttpClient({ baseUrl: 'http://127.0.0.1:1', connections: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isKefuError(error) && error.code).toBe('KEFU_CONFIG_INVALID');
      expect(String(error)).toContain('connections');
    }
  });

  it('refuses an absolute URL on another origin', async () => {
    const server = await startServer({});
    const http = client({ baseUrl: server.url });
    const error = await failure(http.request({ method: 'GET', path: 'http://example.com/x' }));
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
  });

  it('closes idempotently and then refuses requests with a non-retryable error', async () => {
    const server = await startServer({ '/ok': (_q, response) => response.end('ok') });
    const http = undiciHttpClientFactory.create({ baseUrl: server.url });
    await http.request({ method: 'GET', path: '/ok' });
    await Promise.all([http.close(), http.close()]);
    await http.close();
    const error = await failure(http.request({ method: 'GET', path: '/ok' }));
    expect(error.code).toBe('KEFU_HTTP_NETWORK');
    expect(error.retryable).toBe(false);
  });
});

describe('HttpClient.requestJson', () => {
  const Payload = z.object({ items: z.array(z.number()) });

  it('returns the body validated by the schema', async () => {
    const server = await startServer({ '/json': (_q, response) => response.end('{"items":[1,2,3]}') });
    const http = client({ baseUrl: server.url });
    expect(await http.requestJson({ method: 'GET', path: '/json' }, Payload)).toEqual({ items: [1, 2, 3] });
  });

  it('retries a truncated JSON body, then fails with KEFU_HTTP_BAD_BODY', async () => {
    const server = await startServer({ '/broken': (_q, response) => response.end('{"items":[1,2') });
    const http = client({ baseUrl: server.url, retry: quickRetry });
    const error = await failure(http.requestJson({ method: 'GET', path: '/broken' }, Payload));
    expect(error.code).toBe('KEFU_HTTP_BAD_BODY');
    expect(error.message).toContain('not JSON');
    expect(server.hits.get('/broken')).toBe(3);
  });

  it('does not retry a body of the wrong shape and names the field', async () => {
    const server = await startServer({ '/shape': (_q, response) => response.end('{"items":["a"]}') });
    const http = client({ baseUrl: server.url, retry: quickRetry });
    const error = await failure(http.requestJson({ method: 'GET', path: '/shape' }, Payload));
    expect(error.code).toBe('KEFU_HTTP_BAD_BODY');
    expect(error.message).toContain('items.0');
    expect(server.hits.get('/shape')).toBe(1);
  });
});

describe('redaction in the HTTP client', () => {
  it('keeps secrets out of error messages, details and log lines', async () => {
    const appSecret = 'app-secret-7f3a9c';
    registerSecret(appSecret);
    const server = await startServer({
      '/cgi-bin/token': (_q, response) =>
        response.writeHead(401).end(JSON.stringify({ errcode: 40001, access_token: 'leaked-token-123456' })),
    });
    const lines: string[] = [];
    const http = client({
      baseUrl: server.url,
      retry: false,
      logger: createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }),
    });
    const error = await failure(
      http.request({
        method: 'GET',
        path: '/cgi-bin/token',
        query: { access_token: 'query-token-abcdef', secret: appSecret, appid: 'wx123' },
        headers: { authorization: `Bearer ${appSecret}` },
      }),
    );
    const everything = [error.message, JSON.stringify(error.toJSON()), ...lines].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(everything).toContain('appid=wx123');
    expect(everything).toContain('40001');
    for (const secret of [appSecret, 'query-token-abcdef', 'leaked-token-123456']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('redaction of quoted bodies', () => {
  it('hides a sensitive JSON value even when the quote limit cuts it off', async () => {
    // The token starts at byte 470 and runs past the 512-byte quote limit.
    const body = `{"padding":"${'p'.repeat(440)}","access_token":"cut-off-token-${'x'.repeat(66)}"}`;
    const server = await startServer({ '/cut': (_q, response) => response.writeHead(403).end(body) });
    const http = client({ baseUrl: server.url, retry: false });
    const error = await failure(http.request({ method: 'GET', path: '/cut' }));
    expect(error.message).toContain('"access_token":"[redacted]');
    expect(`${error.message}${JSON.stringify(error.toJSON())}`).not.toMatch(/cut-off-tok/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
  });

  it('reads an HTTP date relative to now, and 0 for a date in the past', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or malformed values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
});
