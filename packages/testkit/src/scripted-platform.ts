import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted fake platform: a real HTTP server on loopback serving a fixed list of raw
 * items by cursor, with scripted failures and latency. For provider authors whose
 * platform has no emulator: point the provider's HTTP client at `url` and test paging,
 * retries and resumption for real.
 *
 * API: `GET /items?cursor=<n>&limit=<m>` → `{ "items": [...], "next": <n> | null }`,
 * where `cursor` is the index of the first item (default 0) and `limit` ≤ `maxLimit`.
 * Requests need `Authorization: Bearer <token>` when `token` is set (else 401).
 */

/** A scripted failure of one request. */
export interface ScriptedHttpFailure {
  /** 1-based number of the `/items` request that fails. */
  atRequest: number;
  /** HTTP status to answer (e.g. 503), or `reset` to destroy the connection, or `malformed` for invalid JSON. */
  kind: number | 'reset' | 'malformed';
  /** Retry-After seconds sent with 429/503. */
  retryAfterSeconds?: number;
}

/** Options of {@link startScriptedPlatform}. */
export interface ScriptedPlatformOptions<Item> {
  items: readonly Item[];
  /** Largest `limit` honoured (default 100). */
  maxLimit?: number;
  latencyMs?: number;
  failures?: readonly ScriptedHttpFailure[];
  /** Bearer token required on every request, when set. */
  token?: string;
}

/** A running scripted platform. */
export interface ScriptedPlatform {
  url: string;
  /** `/items` requests received so far (failed ones included). */
  readonly itemRequests: number;
  /** Cursors requested, in order. */
  readonly cursors: readonly number[];
  stop(): Promise<void>;
}

/** Starts a scripted platform on 127.0.0.1 with a random port. */
export async function startScriptedPlatform<Item>(options: ScriptedPlatformOptions<Item>): Promise<ScriptedPlatform> {
  const maxLimit = options.maxLimit ?? 100;
  const cursors: number[] = [];
  let itemRequests = 0;

  const answer = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/items' || request.method !== 'GET') return answer(response, 404, { error: 'not found' });
    itemRequests += 1;
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    const failure = options.failures?.find((f) => f.atRequest === itemRequests);
    if (failure?.kind === 'reset') return request.socket.destroy();
    if (failure?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end('{"items": [');
    }
    if (typeof failure?.kind === 'number') {
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      return answer(response, failure.kind, { error: `scripted failure ${failure.kind}` }, headers);
    }
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      return answer(response, 401, { error: 'missing or wrong bearer token' });
    }
    const cursor = Number(url.searchParams.get('cursor') ?? '0');
    const limit = Number(url.searchParams.get('limit') ?? String(maxLimit));
    if (!Number.isInteger(cursor) || cursor < 0 || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      return answer(response, 400, { error: `cursor must be ≥ 0 and limit in 1..${maxLimit}` });
    }
    cursors.push(cursor);
    const items = options.items.slice(cursor, cursor + limit);
    const next = cursor + items.length < options.items.length ? cursor + items.length : null;
    answer(response, 200, { items, next });
  };

  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      handle(request, response).catch((error: unknown) => answer(response, 500, { error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get itemRequests() {
      return itemRequests;
    },
    cursors,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
